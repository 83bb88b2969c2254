import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

/// The worker's two queue drivers keep the same promises: the Redis one (end to end, on a real
/// server) and the in-memory one the worker's fast unit tests stand on. Which test holds which
/// Lua script: QueueScriptTests.swift.
@Suite("Queue drivers: Redis and in-memory behave alike")
struct JobQueueDriverTests {
    @Test(arguments: QueueBackend.allCases) func kindsRouteAndRetriesComeBackCountingTheAttempt(_ backend: QueueBackend) async throws {
        let queue = try DriverFixture.make(backend)
        let driver = queue.driver
        let webhook = JobEnvelope(kind: .webhook, payload: #"{"event":"booking.confirmed"}"#)
        let cancel = JobEnvelope(kind: .cancel, payload: "{}")
        try await queue.push(webhook)
        try await queue.push(cancel)
        #expect(try await driver.depths() == QueueDepths(webhooks: 1, commands: 1, delayed: 0, dead: 0))

        let commands = try await driver.fetch(from: .commands, laneID: "w1", maxBatch: 5, blockTimeout: .milliseconds(50))
        let webhooks = try await driver.fetch(from: .webhooks, laneID: "w1", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(commands.map(\.envelope?.id) == [cancel.id] && webhooks.map(\.envelope?.id) == [webhook.id])
        #expect(try await driver.fetch(from: .webhooks, laneID: "w1", maxBatch: 5, blockTimeout: .milliseconds(20)).isEmpty)

        try await driver.retry(commands[0], laneID: "w1", dueAt: JobEnvelope.nowMilliseconds() + 60_000, error: "booxi answered 503")
        #expect(try await driver.promoteDue(now: JobEnvelope.nowMilliseconds(), limit: 10) == 0)  // not due yet
        #expect(try await driver.promoteDue(now: JobEnvelope.nowMilliseconds() + 61_000, limit: 10) == 1)
        let again = try await driver.fetch(from: .commands, laneID: "w1", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(again.first?.envelope?.attempt == 1 && again.first?.envelope?.lastError == "booxi answered 503")
        #expect(again.first?.envelope?.payload == cancel.payload)

        try await driver.deadLetter(again[0], laneID: "w1", reason: "booking is completed", lastError: nil)
        try await driver.acknowledge(webhooks, laneID: "w1")
        let letter = try #require(try await queue.deadLetters().first)
        #expect(letter.reason == "booking is completed" && letter.attempts == 2 && letter.lastError == "booxi answered 503")
        #expect(try await driver.depths() == QueueDepths(webhooks: 0, commands: 0, delayed: 0, dead: 1))
        #expect(try await driver.returnHeld(laneID: "w1") == 0)  // nothing left in hand
        await queue.finish()
    }

    @Test(arguments: QueueBackend.allCases) func unreadableBytesAreDeadLetteredAsTheyCame(_ backend: QueueBackend) async throws {
        let queue = try DriverFixture.make(backend)
        try await queue.pushRaw(Array("{not an envelope".utf8), .commands)
        let jobs = try await queue.driver.fetch(from: .commands, laneID: "w1", maxBatch: 1, blockTimeout: .milliseconds(50))
        #expect(jobs.count == 1 && jobs[0].envelope == nil)
        try await queue.driver.deadLetter(jobs[0], laneID: "w1", reason: "not a job envelope", lastError: nil)
        let letter = try #require(try await queue.deadLetters().first)
        #expect(letter.job.kind == .unreadable && letter.job.payload == "{not an envelope")
        await queue.finish()
    }

    @Test(arguments: QueueBackend.allCases) func aDeadWorkersJobsAreReapedAndALiveOnesReturned(_ backend: QueueBackend) async throws {
        let queue = try DriverFixture.make(backend)
        let driver = queue.driver
        try await queue.push(JobEnvelope(kind: .webhook, payload: "{}"))
        try await queue.push(JobEnvelope(kind: .modify, payload: "{}"))
        try await driver.heartbeat(laneIDs: ["ghost"], ttl: .seconds(30))
        _ = try await driver.fetch(from: .webhooks, laneID: "ghost", maxBatch: 5, blockTimeout: .milliseconds(50))
        _ = try await driver.fetch(from: .commands, laneID: "ghost", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(try await driver.reap(lockTTL: .seconds(1)) == 0)  // still alive
        try await driver.heartbeat(laneIDs: ["ghost"], ttl: .milliseconds(1))  // its last heartbeat, then it dies
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await driver.reap(lockTTL: .seconds(1)) == 2)
        #expect(try await driver.depths() == QueueDepths(webhooks: 1, commands: 1, delayed: 0, dead: 0))
        let reaped = try await driver.fetch(from: .webhooks, laneID: "live", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(reaped.first?.envelope?.attempt == 1 && reaped.first?.envelope?.lastError?.contains("ghost") == true)
        // A live lane that lost track hands back without counting an attempt.
        #expect(try await driver.returnHeld(laneID: "live") == 1)
        let returned = try await driver.fetch(from: .webhooks, laneID: "live", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(returned.first?.envelope?.attempt == 1)
        await queue.finish()
    }

    @Test(arguments: QueueBackend.allCases) func aJobNoLongerHeldIsNotBroughtBackByItsOutcome(_ backend: QueueBackend) async throws {
        let queue = try DriverFixture.make(backend)
        let driver = queue.driver
        try await queue.push(JobEnvelope(kind: .webhook, payload: "{}"))
        try await queue.push(JobEnvelope(kind: .webhook, payload: "{ }"))
        let held = try await driver.fetch(from: .webhooks, laneID: "w1", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(held.count == 2)
        // Handed back while its attempt still ran (the grace period ended, or the reaper, or an
        // erase took it): the late outcome neither duplicates it nor revives it.
        #expect(try await driver.returnHeld(laneID: "w1") == 2)
        try await driver.retry(held[0], laneID: "w1", dueAt: 0, error: "late")
        try await driver.deadLetter(held[1], laneID: "w1", reason: "late", lastError: nil)
        #expect(try await driver.depths() == QueueDepths(webhooks: 2, commands: 0, delayed: 0, dead: 0))
        // The storage moves say so, and move a job still held.
        #expect(try await driver.moveToDelayed(held[0], envelope: held[0].retryEnvelope(error: "late"), dueAt: 0, laneID: "w1") == false)
        #expect(try await driver.moveToDead(held[1], letter: held[1].deadLetter(reason: "late", lastError: nil), laneID: "w1") == false)
        let again = try await queue.fetchAll(.webhooks)
        #expect(try await driver.moveToDelayed(again[0], envelope: again[0].retryEnvelope(error: "e"), dueAt: 0, laneID: "w1"))
        #expect(try await driver.moveToDead(again[1], letter: again[1].deadLetter(reason: "r", lastError: nil), laneID: "w1"))
        #expect(try await driver.depths() == QueueDepths(webhooks: 0, commands: 0, delayed: 1, dead: 1))
        await queue.finish()
    }
}
