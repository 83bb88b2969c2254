import Foundation
import JobQueue
import Logging
import ServiceLifecycle
import Synchronization
import Testing
@testable import Worker

/// The worker's lane, retry and shutdown logic over the in-memory queue driver: no Redis, fast.
/// (The same paths over real Redis and real processes: WorkerProcessingTests, WorkerProcessTests.)
@Suite("Worker lanes over the in-memory queue")
struct WorkerLaneTests {
    let queue = MemoryJobQueue()

    /// Runs a worker until `condition` holds (or 30 s pass: a loaded 2-core machine running every
    /// suite at once can starve these lanes for seconds), then shuts it down gracefully; returns how
    /// long the shutdown took.
    @discardableResult
    func runWorker(
        _ handler: any JobHandler, queueName: QueueName = .commands, maxAttempts: Int = 3, blockTimeout: Duration = .milliseconds(50),
        grace: Duration = .seconds(5), until condition: @escaping @Sendable () async throws -> Bool
    ) async throws -> Duration {
        let worker = WorkerService(
            workerID: "lane-test", driver: queue, lanes: [.init(queue: queueName, handler: handler, count: 1)], batchSize: 8,
            blockTimeout: blockTimeout, retryPolicy: RetryPolicy(base: .milliseconds(5), cap: .milliseconds(20), maxAttempts: maxAttempts),
            heartbeatTTL: .seconds(2), reaperInterval: .milliseconds(100), shutdownGrace: grace, logger: Logger(label: "test.lane"))
        let group = ServiceGroup(services: [worker], logger: Logger(label: "test.group"))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline, !((try? await condition()) ?? false) {
                try await Task.sleep(for: .milliseconds(5))
            }
            let started = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return ContinuousClock.now - started
        }
    }

    @Test func retriesFollowThePolicyThenTheJobIsDeadLettered() async throws {
        let handler = ScriptedHandler(outcome: .retry(error: "booxi answered 503", retryAfter: nil))
        queue.push(JobEnvelope(kind: .cancel, payload: "{}"))
        try await runWorker(handler) { queue.deadLetters.count == 1 }
        #expect(handler.calls == 3)
        let letter = try #require(queue.deadLetters.first)
        #expect(letter.reason == "gave up after 3 attempts" && letter.lastError == "booxi answered 503" && letter.attempts == 3)
        #expect(queue.held(by: "lane-test-0") == 0 && queue.registeredWorkers.isEmpty)
    }

    @Test func aRetryAfterLongerThanTheBackoffIsHonoured() async throws {
        let handler = ScriptedHandler(outcome: .retry(error: "429", retryAfter: .seconds(30)))
        queue.push(JobEnvelope(kind: .cancel, payload: "{}"))
        let started = JobEnvelope.nowMilliseconds()
        try await runWorker(handler) { !queue.delayed.isEmpty }
        // The backoff alone (5–20 ms here) would make it due at once.
        let due = try #require(queue.delayed.first?.dueAt)
        #expect(due >= started + 30_000)
    }

    @Test func aJobOutOfAttemptsIsDeadLetteredWithoutRunning() async throws {
        let handler = ScriptedHandler(outcome: .succeeded)
        queue.push(JobEnvelope(kind: .cancel, attempt: 3, payload: "{}"))
        try await runWorker(handler) { queue.deadLetters.count == 1 }
        #expect(handler.calls == 0 && queue.deadLetters.first?.reason == "gave up after 3 attempts")
    }

    @Test func aBatchThatCouldNotRunIsTriedAgainWithoutCountingAnAttempt() async throws {
        let handler = FlakyHandler(failures: 2)
        queue.push(JobEnvelope(kind: .cancel, payload: "{}"))
        try await runWorker(handler) { handler.calls.load(ordering: .relaxed) == 3 }
        #expect(try await queue.depths() == QueueDepths(webhooks: 0, commands: 0, delayed: 0, dead: 0))
        #expect(queue.held(by: "lane-test-0") == 0)
    }

    @Test func shutdownEndsTheWaitForWorkAtOnce() async throws {
        // The lane waits up to 120 s for work; a graceful shutdown must not wait that out (the
        // bound leaves room for a loaded machine's scheduling, far below the wait).
        let took = try await runWorker(ScriptedHandler(outcome: .succeeded), blockTimeout: .seconds(120), grace: .seconds(100)) { true }
        #expect(took < .seconds(20))
        #expect(queue.registeredWorkers.isEmpty)
    }

    @Test func shutdownFinishesTheBatchInHand() async throws {
        let handler = SlowHandler(delay: .milliseconds(300))
        queue.push(JobEnvelope(kind: .cancel, payload: "{}"))
        try await runWorker(handler) { handler.started.load(ordering: .relaxed) }
        let finished = handler.finished.load(ordering: .relaxed)
        #expect(finished)
        #expect(try await queue.depths() == QueueDepths(webhooks: 0, commands: 0, delayed: 0, dead: 0))
    }

    @Test func whenTheGracePeriodIsOverTheJobInHandGoesBackUntouched() async throws {
        let handler = SlowHandler(delay: .seconds(60))
        queue.push(JobEnvelope(kind: .cancel, payload: "{}"))
        let took = try await runWorker(handler, grace: .milliseconds(200)) { handler.started.load(ordering: .relaxed) }
        let finished = handler.finished.load(ordering: .relaxed)
        #expect(took < .seconds(5) && !finished)
        // Handed back on the way out, for the next worker: not lost, no attempt counted.
        #expect(try await queue.depths() == QueueDepths(webhooks: 0, commands: 1, delayed: 0, dead: 0))
        let job = try await queue.fetch(from: .commands, laneID: "next", maxBatch: 1, blockTimeout: .zero)
        #expect(job.first?.envelope?.attempt == 0)
    }
}

/// Throws (as when Redis is unreachable) `failures` times, then succeeds.
final class FlakyHandler: JobHandler {
    let name = "command"
    let failures: Int
    let calls = Atomic<Int>(0)

    init(failures: Int) { self.failures = failures }

    func handle(_ jobs: [FetchedJob]) async throws -> [JobOutcome] {
        let call = calls.add(1, ordering: .relaxed).newValue
        if call <= failures { throw TestError.redisDown }
        return jobs.map { _ in .succeeded }
    }

    enum TestError: Error { case redisDown }
}

/// Takes `delay` per batch (cancellable), recording that it started and finished.
final class SlowHandler: JobHandler {
    let name = "command"
    let delay: Duration
    let started = Atomic<Bool>(false)
    let finished = Atomic<Bool>(false)

    init(delay: Duration) { self.delay = delay }

    func handle(_ jobs: [FetchedJob]) async throws -> [JobOutcome] {
        started.store(true, ordering: .relaxed)
        try await Task.sleep(for: delay)
        finished.store(true, ordering: .relaxed)
        return jobs.map { _ in .succeeded }
    }
}
