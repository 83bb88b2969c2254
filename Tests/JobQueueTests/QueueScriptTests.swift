import Foundation
import JobQueue
import Testing

/// A contract test for every Lua script in `QueueScripts`, run against both drivers wherever the
/// in-memory one has the operation:
///
/// | script | test |
/// |---|---|
/// | `moveUpTo` | `aBatchIsTakenOldestFirstUpToItsSize` |
/// | `moveToDelayed`, `moveToDead` | JobQueueDriverTests: `kindsRouteAndRetriesComeBack…`, `aJobNoLongerHeldIsNotBroughtBack…` |
/// | `promote` | `dueRetriesGoBackSoonestFirstToTheirKindsList` |
/// | `recover` (`dead`, `live`, `shutdown`) | JobQueueDriverTests: `aDeadWorkersJobsAreReaped…`; `aWorkerThatStopsCleanlyHandsBackWithoutCountingAnAttempt`, `aCrashedWorkersUnreadableBytesComeBackAsTheyWere` |
/// | `replaySelected` | `chosenDeadLettersAreReplayedWithTheirAttemptsReset` |
/// | `purgeSelected` | `chosenDeadLettersArePurged` |
/// | `retryNow` | `aChosenDelayedJobIsRetriedNowWithItsAttemptsKept` |
/// | `pushOnce`, `pushHoldingLock`, `removeEntries` | Redis only: QueueScriptRedisTests |
@Suite("Queue scripts: each one's contract, on both drivers")
struct QueueScriptTests {
    @Test(arguments: QueueBackend.allCases) func aBatchIsTakenOldestFirstUpToItsSize(_ backend: QueueBackend) async throws {
        let queue = try DriverFixture.make(backend)
        let jobs = (1...3).map { JobEnvelope(kind: .cancel, payload: "{\"n\":\($0)}") }
        for job in jobs { try await queue.push(job) }
        let first = try await queue.driver.fetch(from: .commands, laneID: "w1", maxBatch: 2, blockTimeout: .milliseconds(50))
        #expect(first.map(\.envelope?.id) == [jobs[0].id, jobs[1].id])
        // Fewer waiting than the batch: what is there, without waiting for more.
        let rest = try await queue.driver.fetch(from: .commands, laneID: "w1", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(rest.map(\.envelope?.id) == [jobs[2].id])
        #expect(try await queue.driver.returnHeld(laneID: "w1") == 3)
        await queue.finish()
    }

    @Test(arguments: QueueBackend.allCases) func dueRetriesGoBackSoonestFirstToTheirKindsList(_ backend: QueueBackend) async throws {
        let queue = try DriverFixture.make(backend)
        let driver = queue.driver
        let pushed = try await queue.pushNew(.webhook, .cancel)
        let (webhook, cancel) = (pushed[0], pushed[1])
        try await queue.pushRaw(Array("not json".utf8), .webhooks)
        let held = try await queue.fetchAll(.webhooks) + queue.fetchAll(.commands)
        // Due at 100 (the webhook), 300 (the unreadable bytes), 200 (the cancel).
        for (job, due) in zip(held, [Int64(100), 300, 200]) { try await driver.retry(job, laneID: "w1", dueAt: due, error: "503") }

        #expect(try await driver.promoteDue(now: 250, limit: 1) == 1)
        #expect(try await queue.fetchAll(.webhooks).map(\.envelope?.id) == [webhook.id])
        #expect(try await driver.promoteDue(now: 250, limit: 10) == 1)
        #expect(try await queue.fetchAll(.commands).map(\.envelope?.id) == [cancel.id])
        // Unreadable bytes were kept as an unreadable job, which goes to the commands list.
        #expect(try await driver.promoteDue(now: 1_000, limit: 10) == 1)
        let unreadable = try await queue.fetchAll(.commands)
        #expect(unreadable.first?.envelope?.kind == .unreadable && unreadable.first?.envelope?.payload == "not json")
        #expect(try await driver.depths().delayed == 0)
        await queue.finish()
    }

    @Test(arguments: QueueBackend.allCases) func aWorkerThatStopsCleanlyHandsBackWithoutCountingAnAttempt(_ backend: QueueBackend) async throws {
        let queue = try DriverFixture.make(backend)
        let driver = queue.driver
        try await queue.push(JobEnvelope(kind: .modify, payload: "{}"))
        try await driver.heartbeat(laneIDs: ["w1"], ttl: .milliseconds(1))
        _ = try await queue.fetchAll(.commands)
        try await driver.deregister(laneID: "w1")
        let back = try await queue.fetchAll(.commands, laneID: "w2")
        #expect(back.first?.envelope?.attempt == 0 && back.first?.envelope?.lastError == nil)
        // Deregistered: its expired heartbeat is no longer reaped.
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await driver.reap(lockTTL: .seconds(1)) == 0)
        await queue.finish()
    }

    @Test(arguments: QueueBackend.allCases) func aCrashedWorkersUnreadableBytesComeBackAsTheyWere(_ backend: QueueBackend) async throws {
        let queue = try DriverFixture.make(backend)
        try await queue.pushRaw(Array("{broken".utf8), .commands)
        try await queue.driver.heartbeat(laneIDs: ["ghost"], ttl: .milliseconds(1))
        _ = try await queue.fetchAll(.commands, laneID: "ghost")
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await queue.driver.reap(lockTTL: .seconds(1)) == 1)
        let back = try await queue.fetchAll(.commands, laneID: "w2")
        #expect(back.map(\.raw) == [Array("{broken".utf8)])
        await queue.finish()
    }

    @Test(arguments: QueueBackend.allCases) func chosenDeadLettersAreReplayedWithTheirAttemptsReset(_ backend: QueueBackend) async throws {
        let queue = try DriverFixture.make(backend)
        let (webhook, cancel, modify) = try await Self.deadLetterThree(queue)
        #expect(try await queue.deadLetters().map(\.job.id) == [modify.id, cancel.id, webhook.id])  // newest first
        #expect(try await queue.driver.deadLetters(limit: 1).map(\.job.id) == [modify.id])

        #expect(try await queue.driver.replayDeadLetters(ids: [webhook.id, cancel.id, "no-such-job"]) == 2)
        #expect(try await queue.driver.replayDeadLetters(ids: []) == 0)
        let replayed = try await queue.fetchAll(.webhooks).compactMap(\.envelope)
        #expect(replayed.map(\.id) == [webhook.id] && replayed[0].attempt == 0 && replayed[0].lastError == nil)
        #expect(replayed[0].payload == webhook.payload && replayed[0].receivedAt == webhook.receivedAt)
        #expect(try await queue.fetchAll(.commands).compactMap(\.envelope?.id) == [cancel.id])
        #expect(try await queue.deadLetters().map(\.job.id) == [modify.id])
        await queue.finish()
    }

    @Test(arguments: QueueBackend.allCases) func chosenDeadLettersArePurged(_ backend: QueueBackend) async throws {
        let queue = try DriverFixture.make(backend)
        let (webhook, cancel, modify) = try await Self.deadLetterThree(queue)
        #expect(try await queue.driver.purgeDeadLetters(ids: [cancel.id, "no-such-job"]) == 1)
        #expect(try await queue.driver.purgeDeadLetters(ids: [cancel.id]) == 0)
        #expect(try await queue.deadLetters().map(\.job.id) == [modify.id, webhook.id])
        #expect(try await queue.driver.depths() == QueueDepths(webhooks: 0, commands: 0, delayed: 0, dead: 2))
        await queue.finish()
    }

    @Test(arguments: QueueBackend.allCases) func aChosenDelayedJobIsRetriedNowWithItsAttemptsKept(_ backend: QueueBackend) async throws {
        let queue = try DriverFixture.make(backend)
        let driver = queue.driver
        let pushed = try await queue.pushNew(.cancel, .webhook)
        let (later, sooner) = (pushed[0], pushed[1])
        for job in try await queue.fetchAll(.commands) + queue.fetchAll(.webhooks) {
            try await driver.retry(job, laneID: "w1", dueAt: job.envelope?.kind == .cancel ? 9_000_000 : 5_000_000, error: "503")
        }
        let delayed = try await driver.delayedJobs(limit: 10)
        #expect(delayed.map(\.envelope.id) == [sooner.id, later.id] && delayed.map(\.dueAt) == [5_000_000, 9_000_000])

        #expect(try await driver.retryNow(id: later.id))
        #expect(try await driver.retryNow(id: later.id) == false)  // no longer delayed
        #expect(try await driver.retryNow(id: "no-such-job") == false)
        let now = try await queue.fetchAll(.commands).compactMap(\.envelope)
        #expect(now.map(\.id) == [later.id] && now[0].attempt == 1 && now[0].lastError == "503")
        #expect(try await driver.delayedJobs(limit: 10).map(\.envelope.id) == [sooner.id])
        await queue.finish()
    }

    /// A webhook, a cancel and a modify in the dead letters, in that order; the webhook after a
    /// retry, so it carries an attempt and an error for a replay to reset.
    static func deadLetterThree(_ queue: DriverFixture) async throws -> (JobEnvelope, JobEnvelope, JobEnvelope) {
        let jobs = try await queue.pushNew(.webhook, .cancel, .modify)
        try await queue.driver.retry(try #require(try await queue.fetchAll(.webhooks).first), laneID: "w1", dueAt: 0, error: "503")
        #expect(try await queue.driver.promoteDue(now: 1, limit: 10) == 1)
        let held = try await queue.fetchAll(.webhooks) + queue.fetchAll(.commands)
        for job in held { try await queue.driver.deadLetter(job, laneID: "w1", reason: "refused", lastError: nil) }
        return (jobs[0], jobs[1], jobs[2])
    }
}
