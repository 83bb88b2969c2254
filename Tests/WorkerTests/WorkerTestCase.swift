import Foundation
import JobQueue
import Logging
import RedisClient
import ServiceLifecycle
import TestSupport
import TrackingCore
@testable import Worker

/// A worker running in-process with its handlers, over a throwaway Redis.
struct WorkerTestCase {
    let server: RedisServer
    let redis: RedisClient
    let keys = QueueKeys()
    /// `queue.shards`: one unless a test spreads the queue.
    let shards: QueueShards
    var queue: JobQueue { JobQueue(redis: redis, shards: shards) }
    var mappings: MappingStore { MappingStore(redis: redis, keys: MappingKeys(), retentionSeconds: 3600) }

    init(queueShards: Int = 1) throws {
        shards = QueueShards(count: queueShards)
        server = try RedisServer()
        redis = RedisClient(configuration: server.configuration(poolSize: 4))
    }

    /// Runs a worker with `lanes` until `until` is true (or 20 s pass), then shuts it down gracefully.
    func runWorker(
        lanes: [WorkerService.Lane], retry: RetryPolicy = RetryPolicy(base: .milliseconds(10), cap: .milliseconds(50), maxAttempts: 3),
        until condition: @escaping @Sendable () async throws -> Bool
    ) async throws {
        let worker = WorkerService(
            workerID: "test-worker", driver: queue, lanes: lanes, batchSize: 16, blockTimeout: .milliseconds(100), retryPolicy: retry,
            // A heartbeat that outlives a loaded CI machine's stalls: these tests are not about reaping.
            heartbeatTTL: .seconds(10), reaperInterval: .milliseconds(500), shutdownGrace: .seconds(2), logger: Logger(label: "test.worker"))
        let group = ServiceGroup(services: [worker], logger: Logger(label: "test.group"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline, !((try? await condition()) ?? false) {
                try await Task.sleep(for: .milliseconds(20))
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    func webhookLane(count: Int = 1) -> WorkerService.Lane {
        WorkerService.Lane(
            queue: .webhooks,
            handler: WebhookHandler(mappings: mappings, logger: Logger(label: "test")),
            count: count)
    }

    func finish() async {
        await redis.shutdown()
        server.stop()
    }
}

/// A handler that fails as told, counting its calls.
final class ScriptedHandler: JobHandler, @unchecked Sendable {
    let name = "command"
    private let lock = NSLock()
    private var _calls = 0
    var outcome: JobOutcome

    init(outcome: JobOutcome) { self.outcome = outcome }

    var calls: Int { lock.withLock { _calls } }

    func setOutcome(_ outcome: JobOutcome) { lock.withLock { self.outcome = outcome } }

    func handle(_ jobs: [FetchedJob]) async throws -> [JobOutcome] {
        lock.withLock {
            _calls += jobs.count
            return jobs.map { _ in outcome }
        }
    }
}
