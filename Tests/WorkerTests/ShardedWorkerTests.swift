import Foundation
import Synchronization
import JobQueue
import RedisClient
import TestSupport
import Testing
import TrackingCore
@testable import Worker

/// A worker over three queue shards (`queue.shards`, docs/scaling.md): a lane per shard blocks on
/// it, and a lane whose shard is empty takes from the others.
@Suite("A worker over queue shards")
struct ShardedWorkerTests {
    @Test func lanesRoundUpToAMultipleOfTheShards() {
        #expect(WorkerService.laneCount(1, shards: 1) == 1)
        #expect(WorkerService.laneCount(4, shards: 1) == 4)
        #expect(WorkerService.laneCount(1, shards: 3) == 3)
        #expect(WorkerService.laneCount(4, shards: 3) == 6)
        #expect(WorkerService.laneCount(6, shards: 3) == 6)
    }

    @Test func oneConfiguredLaneDrainsEveryShard() async throws {
        let test = try WorkerTestCase(queueShards: 3)
        defer { Task { await test.finish() } }
        var pipeline = RedisPipeline()
        for n in 0..<150 {
            let booking = "SH\(n)"
            test.queue.appendPush(
                JobEnvelope(kind: .webhook, payload: webhookBody("booking.confirmed", booking: booking, code: "firstcode\(n)", eventTime: 1_000)),
                forBooking: booking, to: &pipeline)
            test.queue.appendPush(
                JobEnvelope(kind: .webhook, payload: webhookBody("booking.modified", booking: booking, code: "secondcode\(n)", eventTime: 2_000)),
                forBooking: booking, to: &pipeline)
        }
        _ = try await test.redis.execute(pipeline)
        for keys in test.shards.all { #expect(try await test.redis.llen(keys.webhooks) > 40) }
        // Three lanes (one per shard), each registered in every shard's registry, where that
        // shard's reaper reads.
        let registered = Mutex<[Int]>([])
        try await test.runWorker(lanes: [test.webhookLane(count: 1)]) {
            var counts: [Int] = []
            for keys in test.shards.all { counts.append(try await test.redis.send("ZCARD", keys.workers).int ?? 0) }
            registered.withLock { $0 = counts }
            return try await test.queue.depths().webhooks == 0
        }
        #expect(registered.withLock { $0 } == [3, 3, 3])
        for n in 0..<150 {
            #expect(try await test.mappings.resolve(TrackingCode("secondcode\(n)")!)?.bookingID == "SH\(n)")
        }
        for keys in test.shards.all {
            #expect(try await test.redis.send("ZCARD", keys.workers).int == 0)  // deregistered on the way out
        }
        #expect(try await test.queue.depths() == QueueDepths(webhooks: 0, commands: 0, delayed: 0, dead: 0))
    }

    /// The lane's home stays empty for a whole wait: it then takes from the shard that has work,
    /// and keeps on it while there is some.
    @Test func aLaneWhoseShardIsEmptyTakesFromTheOthers() async throws {
        let test = try WorkerTestCase(queueShards: 3)
        defer { Task { await test.finish() } }
        let booking = (0...).lazy.map { "ST\($0)" }.first { test.shards.forBooking($0).shard == 2 }!
        for _ in 0..<3 { try await test.queue.push(JobEnvelope(kind: .webhook, payload: "{}"), forBooking: booking) }
        var fetcher = ShardFetcher(home: 0, shardCount: 3)
        let fetch = { (fetcher: ShardFetcher) in
            try await fetcher.fetch(.webhooks, laneID: "thief", maxBatch: 2, blockTimeout: .milliseconds(100), driver: test.queue).jobs
        }
        let first = try await fetch(fetcher)
        #expect(first.isEmpty)
        fetcher.took(first)
        let stolen = try await fetch(fetcher)
        #expect(stolen.count == 2 && stolen.allSatisfy { $0.shard == 2 })
        fetcher.took(stolen)
        #expect(fetcher.stealingFrom == 2 && fetcher.lookOrder == [0, 2, 1])
        let rest = try await fetch(fetcher)
        #expect(rest.count == 1 && rest[0].shard == 2)
        // Held in shard 2's processing list, acknowledged there.
        #expect(try await test.redis.llen(test.shards[2].processing("thief")) == 3)
        try await test.queue.acknowledge(stolen + rest, laneID: "thief")
        #expect(try await test.queue.held(by: "thief") == 0)
    }
}
