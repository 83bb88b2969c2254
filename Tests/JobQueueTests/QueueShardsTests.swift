import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

/// `queue.shards`: which shard a booking's jobs and a command's status go to, and the queue's
/// operations over several shards against a real redis-server (docs/scaling.md, queue shards).
@Suite("Queue shards")
struct QueueShardsTests {
    @Test func oneShardIsTodaysLayout() {
        let shards = QueueShards()
        #expect(shards.count == 1)
        #expect(shards.forBooking("B1").webhooks == "bxt:{q}:webhooks")
        #expect(shards.ofJob(JobEnvelope.newID()).shard == 0)
    }

    @Test(arguments: [2, 3, 4, 6, 16, 64])
    func shardsHaveDistinctSlotsAndShardZeroKeepsItsTag(count: Int) {
        let shards = QueueShards(count: count)
        #expect(shards[0].tag == "q")
        #expect(Set(shards.all.map { ClusterSlot.of($0.webhooks) }).count == count)
        // Every key of a shard shares its slot.
        for keys in shards.all {
            let slot = ClusterSlot.of(keys.webhooks)
            for key in [keys.commands, keys.delayed, keys.dead, keys.workers, keys.processing("l"), keys.seen("e"), keys.job("j")] {
                #expect(ClusterSlot.of(key) == slot)
            }
        }
    }

    /// On a cluster whose primaries own equal ranges (what `redis-cli --cluster create` makes),
    /// three shards sit in three different thirds of the slots, so on three primaries.
    @Test func threeShardsLandInThreeThirdsOfTheSlots() {
        let thirds = QueueShards(count: 3).all.map { ClusterSlot.of($0.webhooks) * 3 / ClusterSlot.count }
        #expect(Set(thirds).count == 3, "\(thirds)")
    }

    @Test func bookingsSpreadEvenlyAndACommandsJobIdNamesItsBookingsShard() {
        let shards = QueueShards(count: 3)
        var perShard = [0, 0, 0]
        for n in 0..<3_000 {
            let booking = "\(7_000_000 + n)"
            let shard = shards.forBooking(booking).shard
            #expect(shards.forBooking(booking).shard == shard)
            perShard[shard] += 1
            if n < 200 { #expect(shards.ofJob(shards.newJobID(forBooking: booking)).shard == shard) }
        }
        #expect(perShard.allSatisfy { $0 > 900 && $0 < 1_100 }, "\(perShard)")
        #expect(shards.forBooking(nil).shard == 0)
    }

    struct Fixture {
        let server: RedisServer
        let redis: RedisClient
        let queue: JobQueue

        init() throws {
            server = try RedisServer()
            redis = RedisClient(configuration: server.configuration(poolSize: 2))
            queue = JobQueue(redis: redis, shards: QueueShards(count: 3))
        }

        /// A booking id whose jobs go to `shard`.
        func booking(inShard shard: Int, _ n: Int = 0) -> String {
            (0...).lazy.map { "BK\(n)-\($0)" }.first { queue.shards.forBooking($0).shard == shard }!
        }

        func finish() async {
            await redis.shutdown()
            server.stop()
        }
    }

    @Test func pushesGoToTheirBookingsShardAndDepthsAddUp() async throws {
        let test = try Fixture()
        var pipeline = RedisPipeline()
        for n in 0..<300 { test.queue.appendPush(JobEnvelope(kind: .webhook, payload: "{}"), forBooking: "B\(n)", to: &pipeline) }
        _ = try await test.redis.execute(pipeline)
        var lengths: [Int] = []
        for keys in test.queue.shards.all { lengths.append(try await test.redis.llen(keys.webhooks)) }
        #expect(lengths.allSatisfy { $0 > 60 } && lengths.reduce(0, +) == 300, "\(lengths)")
        #expect(try await test.queue.depths().webhooks == 300)
        // A duplicate meets its marker in its booking's shard; the console finds the event by id.
        let booking = test.booking(inShard: 2)
        for expected in [PushOutcome.queued, .duplicate] {
            var push = RedisPipeline()
            test.queue.appendPush(JobEnvelope(kind: .webhook, payload: "{}"), forBooking: booking, oncePer: "evt-s", windowSeconds: 60, to: &push)
            #expect(try PushOutcome(reply: try await test.redis.execute(push)[0]) == expected)
        }
        #expect(try await test.queue.seenEvent("evt-s")?.subject == booking)
        #expect(try await test.redis.send("EXISTS", test.queue.shards[2].seen("evt-s")).int == 1)
        await test.finish()
    }

    /// A lane that held jobs of two shards dies: each shard's reaper hands its own back, to that
    /// shard's list, with the attempt counted.
    @Test func recoveryRetriesAndDeadLettersStayInTheirShard() async throws {
        let test = try Fixture()
        let one = test.booking(inShard: 1), two = test.booking(inShard: 2)
        try await test.queue.push(JobEnvelope(kind: .webhook, payload: "{}"), forBooking: one)
        try await test.queue.push(JobEnvelope(kind: .webhook, payload: "{}"), forBooking: two)
        try await test.queue.heartbeat(laneIDs: ["ghost"], ttl: .milliseconds(100))
        let held1 = try await test.queue.fetch(from: .webhooks, shard: 1, laneID: "ghost", maxBatch: 5, blockTimeout: .zero)
        let held2 = try await test.queue.fetch(from: .webhooks, shard: 2, laneID: "ghost", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(held1.map(\.shard) == [1] && held2.map(\.shard) == [2])
        #expect(try await test.queue.held(by: "ghost") == 2)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await test.queue.reap(lockTTL: .seconds(5)) == 2)
        for shard in [1, 2] {
            let back = try await test.redis.lrange(test.queue.shards[shard].webhooks, 0, -1)
            #expect(back.count == 1)
            #expect(try back.map { try JobEnvelope.decode($0).attempt } == [1])
        }
        // A retry is delayed and promoted in its shard; a dead letter is replayed to it.
        let live = try await test.queue.fetch(from: .webhooks, shard: 1, laneID: "live", maxBatch: 5, blockTimeout: .zero)
        try await test.queue.retry(live[0], laneID: "live", dueAt: 0, error: "later")
        #expect(try await test.redis.send("ZCARD", test.queue.shards[1].delayed).int == 1)
        #expect(try await test.queue.promoteDue() == 1)
        #expect(try await test.redis.llen(test.queue.shards[1].webhooks) == 1)
        let doomed = try await test.queue.fetch(from: .webhooks, shard: 2, laneID: "live", maxBatch: 5, blockTimeout: .zero)
        try await test.queue.deadLetter(doomed[0], laneID: "live", reason: "test", lastError: nil)
        #expect(try await test.queue.deadLetters().map(\.job.id) == [doomed[0].envelope!.id])
        #expect(try await test.queue.replayDeadLetters(ids: [doomed[0].envelope!.id]) == 1)
        #expect(try await test.redis.llen(test.queue.shards[2].webhooks) == 1)
        #expect(try await test.queue.depths() == QueueDepths(webhooks: 2, commands: 0, delayed: 0, dead: 0))
        await test.finish()
    }
}
