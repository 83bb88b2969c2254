import Foundation
import JobQueue
import Logging
import RedisClient

/// One fetch loop: take a batch from a waiting list into this worker's processing list, hand it
/// to the handler, then acknowledge, retry or dead-letter each job. A worker runs several lanes.
struct WorkerLane: Sendable {
    let source: String
    let handler: any JobHandler
    let queue: JobQueue
    let registry: WorkerRegistry
    /// This lane's queue identity: its processing list and heartbeat.
    let laneID: String
    let batchSize: Int
    let blockTimeout: Duration
    let retryPolicy: RetryPolicy
    let metrics: WorkerMetrics
    let logger: Logger

    /// Runs until `isStopping()` says so; a batch in hand is always finished first.
    func run(isStopping: @escaping @Sendable () -> Bool) async {
        var failures = 0
        // A restarted worker with the same id, or a lane whose round trips failed, may hold jobs
        // it no longer tracks: they go back to the waiting list before the next fetch.
        var mustReturnHeld = true
        while !isStopping() && !Task.isCancelled {
            do {
                if mustReturnHeld {
                    let returned = try await registry.returnHeld(workerID: laneID)
                    if returned > 0 { logger.notice("returned jobs held across a failure", metadata: ["lane": "\(laneID)", "jobs": "\(returned)"]) }
                    mustReturnHeld = false
                }
                let jobs = try await queue.fetch(from: source, workerID: laneID, maxBatch: batchSize, blockTimeout: blockTimeout)
                if !jobs.isEmpty { try await process(jobs) }
                failures = 0
            } catch {
                // Redis unreachable: whatever was fetched stays in the processing list, so nothing is
                // lost; it is processed when Redis is back, or recovered by a reaper if we die.
                failures += 1
                mustReturnHeld = true
                let pause = Duration.milliseconds(min(50 << min(failures, 5), 1_000))
                if failures == 1 || failures % 20 == 0 {
                    logger.warning("lane paused: Redis unavailable", metadata: ["lane": "\(handler.kind)", "error": "\(error)"])
                }
                try? await Task.sleep(for: pause)
            }
        }
    }

    private func process(_ jobs: [FetchedJob]) async throws {
        let started = ContinuousClock.now
        // Jobs that already used up their attempts (e.g. they crashed workers) go straight to the dead letters.
        var fresh: [FetchedJob] = []
        for job in jobs {
            if let attempt = job.envelope?.attempt, attempt >= retryPolicy.maxAttempts {
                try await queue.deadLetter(job, workerID: laneID, reason: "gave up after \(attempt) attempts")
                metrics.outcome(kind: handler.kind, "dead")
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
                metrics.outcome(kind: handler.kind, "succeeded")
            case .failed(let reason):
                try await queue.deadLetter(job, workerID: laneID, reason: reason)
                metrics.outcome(kind: handler.kind, "dead")
            case .retry(let error, let retryAfter):
                let attempt = (job.envelope?.attempt ?? 0) + 1
                if let delay = retryPolicy.delay(afterAttempt: attempt, retryAfter: retryAfter) {
                    let due = JobEnvelope.nowMilliseconds() + delay.milliseconds
                    try await queue.retry(job, workerID: laneID, dueAt: due, error: error)
                    metrics.outcome(kind: handler.kind, "retried")
                } else {
                    try await queue.deadLetter(job, workerID: laneID, reason: "gave up after \(attempt) attempts", lastError: error)
                    metrics.outcome(kind: handler.kind, "dead")
                }
            }
        }
        try await queue.acknowledge(done, workerID: laneID)
        metrics.processing(kind: handler.kind).record(duration: ContinuousClock.now - started)
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
