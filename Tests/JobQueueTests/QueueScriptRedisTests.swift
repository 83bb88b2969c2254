import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

/// The contracts of the scripts only the Redis driver has: the producers' pushes run inside the
/// ingress' and the API's own pipelines, and erase removes exact bytes it read from Redis keys, so
/// neither has a meaning for the in-memory driver.
@Suite("Queue scripts the Redis driver alone has")
struct QueueScriptRedisTests {
    struct Fixture {
        let server: RedisServer
        let redis: RedisClient
        let queue: JobQueue

        init() throws {
            server = try RedisServer()
            redis = RedisClient(configuration: server.configuration(poolSize: 2))
            queue = JobQueue(redis: redis)
        }

        func run(_ build: (inout RedisPipeline) -> Void) async throws -> PushOutcome {
            var pipeline = RedisPipeline()
            build(&pipeline)
            return try PushOutcome(reply: try await redis.execute(pipeline)[0])
        }

        func finish() async {
            await redis.shutdown()
            server.stop()
        }
    }

    @Test func pushOnceQueuesAnEventOnceAndRemembersItsSubject() async throws {
        let test = try Fixture()
        let keys = test.queue.shards[0]
        let first = JobEnvelope(kind: .webhook, payload: "{}")
        let redelivered = JobEnvelope(kind: .webhook, payload: "{}")
        #expect(try await test.run { test.queue.appendPush(first, forBooking: "B1", oncePer: "evt-1", windowSeconds: 60, to: &$0) } == .queued)
        #expect(
            try await test.run { test.queue.appendPush(redelivered, forBooking: "B2", oncePer: "evt-1", windowSeconds: 60, to: &$0) } == .duplicate)
        #expect(try await test.queue.subject(ofEvent: "evt-1") == "B1")
        #expect(try await test.queue.seenEvent("evt-1") == SeenEvent(marker: "B1+"))
        let ttl = try await test.redis.send("TTL", keys.seen("evt-1")).int ?? -1
        #expect(ttl > 0 && ttl <= 60)
        #expect(try await test.redis.lrange(keys.webhooks, 0, -1).map { try JobEnvelope.decode($0).id } == [first.id])
        await test.finish()
    }

    @Test func duplicatesAreCountedOnTheMarkerUpToACapKeepingItsTTL() async throws {
        let test = try Fixture()
        for _ in 0..<(SeenEvent.maxCounted + 20) {
            _ = try await test.run {
                test.queue.appendPush(JobEnvelope(kind: .webhook, payload: "{}"), forBooking: "B9", oncePer: "evt-9", windowSeconds: 60, to: &$0)
            }
        }
        let seen = try #require(try await test.queue.seenEvent("evt-9"))
        #expect(seen.subject == "B9" && seen.duplicates == SeenEvent.maxCounted)
        let ttl = try await test.redis.send("TTL", test.queue.shards[0].seen("evt-9")).int ?? -1
        #expect(ttl > 0 && ttl <= 60)
        #expect(try await test.redis.send("LLEN", test.queue.shards[0].webhooks).int == 1)
        await test.finish()
    }

    @Test func pushHoldingLockAllowsOneCommandPerBookingInFlight() async throws {
        let test = try Fixture()
        let keys = test.queue.shards[0]
        let cancel = JobEnvelope(kind: .cancel, payload: "{}")
        let modify = JobEnvelope(kind: .modify, payload: "{}")
        let status = Array(#"{"state":"queued"}"#.utf8)
        #expect(try await test.run { test.queue.appendPush(cancel, holdingCommandLockOf: "B1", status: status, ttlSeconds: 60, to: &$0) } == .queued)
        #expect(
            try await test.run { test.queue.appendPush(modify, holdingCommandLockOf: "B1", status: status, ttlSeconds: 60, to: &$0) }
                == .busy(holder: cancel.id))
        #expect(try await test.run { test.queue.appendPush(modify, holdingCommandLockOf: "B2", status: status, ttlSeconds: 60, to: &$0) } == .queued)
        #expect(try await test.redis.get(keys.job(cancel.id)) == status)
        #expect(try await test.redis.get(keys.job(modify.id)) == status)
        for key in [keys.bookingCommandLock("B1"), keys.job(cancel.id)] {
            let ttl = try await test.redis.send("TTL", key).int ?? -1
            #expect(ttl > 0 && ttl <= 60)
        }
        #expect(try await test.redis.llen(keys.commands) == 2)
        await test.finish()
    }

    @Test func removeEntriesRemovesExactlyTheEntriesGiven() async throws {
        let test = try Fixture()
        let keys = test.queue.shards[0]
        let jobs = (1...3).map { JobEnvelope(kind: .webhook, payload: "{\"n\":\($0)}") }
        for job in jobs { try await test.queue.push(job) }
        let entries = try await test.redis.lrange(keys.webhooks, 0, -1)
        #expect(try await test.queue.removeEntries([entries[0], entries[2], Array("absent".utf8)], from: keys.webhooks) == 2)
        #expect(try await test.redis.lrange(keys.webhooks, 0, -1) == [entries[1]])
        #expect(try await test.queue.removeEntries([], from: keys.webhooks) == 0)

        // The delayed set, by member.
        let held = try await test.queue.fetch(from: .webhooks, laneID: "w1", maxBatch: 1, blockTimeout: .milliseconds(50))
        try await test.queue.retry(held[0], laneID: "w1", dueAt: 1_000, error: "503")
        let delayed = try #require(try await test.redis.send("ZRANGE", keys.delayed, 0, -1).array?.first?.bytes)
        #expect(try await test.queue.removeEntries([delayed, Array("absent".utf8)], from: keys.delayed, sorted: true) == 1)
        #expect(try await test.queue.depths() == QueueDepths(webhooks: 0, commands: 0, delayed: 0, dead: 0))
        await test.finish()
    }
}
