import Foundation
import JobQueue
import Logging
import RedisClient
import ServiceLifecycle

/// One fetch loop: take a batch from a waiting list into this lane's processing list, hand it to
/// the handler, then acknowledge, retry or dead-letter each job. A worker runs several lanes.
///
/// With several queue shards (`queue.shards`) a lane has a home shard, where it blocks for work, so
/// every shard has lanes waiting on it (``WorkerService`` runs a multiple of the shard count). A
/// lane whose home stayed empty for a whole wait looks at the other shards without blocking and
/// keeps taking from them while they have work: a backlog in one shard is shared out instead of
/// waiting for its own lanes. One shard behaves as before: the lane blocks on the one list.
///
/// Graceful shutdown ends only the wait for work (structured cancellation of the fetch); a batch
/// in hand is finished. Task cancellation (the grace period is over) ends everything: what the lane
/// still holds stays in its processing list and is handed back by ``WorkerService``.
struct WorkerLane: Sendable {
    let queue: QueueName
    let handler: any JobHandler
    let driver: any JobQueueDriver
    /// This lane's queue identity: its processing list and heartbeat.
    let laneID: String
    /// The shard this lane blocks on.
    let home: Int
    let batchSize: Int
    let blockTimeout: Duration
    let retryPolicy: RetryPolicy
    let metrics: WorkerMetrics
    let logger: Logger

    func run() async {
        var laneLogger = logger
        laneLogger[metadataKey: "lane"] = "\(handler.name)"
        let pause = OutagePause("lane", logger: laneLogger)
        // A restarted worker with the same id, or a lane whose round trips failed, may hold jobs
        // it no longer tracks: they go back to the waiting list before the next fetch.
        var mustReturnHeld = true
        var fetcher = ShardFetcher(home: home, shardCount: driver.shardCount)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if mustReturnHeld {
                    let returned = try await fetcher.returnHeld(laneID: laneID, driver: driver)
                    if returned > 0 { logger.notice("returned jobs held across a failure", metadata: ["lane": "\(laneID)", "jobs": "\(returned)"]) }
                    mustReturnHeld = false
                }
                if !fetcher.unsure.isEmpty { await fetcher.settleUnsure(laneID: laneID, driver: driver) }
                let fetched = try await cancelWhenGracefulShutdown { [self, fetcher] in
                    try await fetcher.fetch(queue, laneID: laneID, maxBatch: batchSize, blockTimeout: blockTimeout, driver: driver)
                }
                fetcher.took(fetched)
                let jobs = fetched.jobs
                if !jobs.isEmpty { try await process(jobs) }
                pause.succeeded()
            } catch {
                // Interrupted by shutdown: whatever the fetch moved is handed back on the way out.
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                // Redis unreachable: whatever was fetched stays in the processing list, so nothing is
                // lost; it is processed when Redis is back, or recovered by a reaper if we die.
                mustReturnHeld = true
                await cancelWhenGracefulShutdown { await pause.failed(error) }
            }
        }
    }

    private func process(_ jobs: [FetchedJob]) async throws {
        let started = ContinuousClock.now
        let counts = metrics.outcomes(handler.name)
        // Jobs that already used up their attempts (e.g. they crashed workers) go straight to the dead letters.
        var fresh: [FetchedJob] = []
        for job in jobs {
            if try await driver.deadLetterIfOutOfAttempts(job, laneID: laneID, policy: retryPolicy) {
                counts.dead.increment()
            } else {
                fresh.append(job)
            }
        }
        let outcomes = try await processUntilDone(fresh)
        var done: [FetchedJob] = []
        for (job, outcome) in zip(fresh, outcomes) {
            switch outcome {
            case .succeeded:
                done.append(job)
                counts.succeeded.increment()
            case .failed(let reason):
                try await driver.deadLetter(job, laneID: laneID, reason: reason, lastError: nil)
                counts.dead.increment()
            case .retry(let error, let retryAfter):
                let retried = try await driver.settleFailedAttempt(job, laneID: laneID, error: error, retryAfter: retryAfter, policy: retryPolicy)
                (retried ? counts.retried : counts.dead).increment()
            }
        }
        try await driver.acknowledge(done, laneID: laneID)
        counts.batchDuration.record(duration: ContinuousClock.now - started)
    }

    /// The handler throws only when Redis is unreachable; the batch is then tried again (applying
    /// twice is harmless, the mapping scripts are idempotent).
    private func processUntilDone(_ jobs: [FetchedJob]) async throws -> [JobOutcome] {
        guard !jobs.isEmpty else { return [] }
        var failures = 0
        while true {
            do {
                return try await handler.handle(jobs)
            } catch {
                failures += 1
                if failures >= 50 || Task.isCancelled { throw error }
                try? await Task.sleep(for: .milliseconds(min(50 * failures, 1_000)))
            }
        }
    }
}
