import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

/// The worker's two queue drivers keep the same promises: the Redis one (end to end, on a real
/// server) and the in-memory one the worker's fast unit tests stand on.
@Suite("Queue drivers: Redis and in-memory behave alike")
struct JobQueueDriverTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case redis, memory
        var testDescription: String { rawValue }
    }

    /// A driver with what the test needs beyond the protocol: pushing and reading dead letters.
    struct Fixture {
        let driver: any JobQueueDriver
        let push: @Sendable (JobEnvelope) async throws -> Void
        let pushRaw: @Sendable ([UInt8], QueueName) async throws -> Void
        let deadLetters: @Sendable () async throws -> [DeadLetter]
        let finish: @Sendable () async -> Void

        static func make(_ kind: Kind) throws -> Fixture {
            switch kind {
            case .memory:
                let queue = MemoryJobQueue()
                return Fixture(
                    driver: queue, push: { queue.push($0) }, pushRaw: { queue.push(raw: $0, to: $1) },
                    deadLetters: { queue.deadLetters }, finish: {})
            case .redis:
                let server = try RedisServer()
                let redis = RedisClient(configuration: server.configuration(poolSize: 2))
                let queue = JobQueue(redis: redis, keys: QueueKeys())
                return Fixture(
                    driver: queue, push: { try await queue.push($0) },
                    pushRaw: { try await redis.send("LPUSH", queue.keys.waitingList($1), $0) },
                    deadLetters: { try await queue.deadLetters() },
                    finish: {
                        await redis.shutdown()
                        server.stop()
                    })
            }
        }
    }

    @Test(arguments: Kind.allCases) func kindsRouteAndRetriesComeBackCountingTheAttempt(_ kind: Kind) async throws {
        let queue = try Fixture.make(kind)
        let driver = queue.driver
        let webhook = JobEnvelope(kind: .webhook, payload: #"{"event":"booking.confirmed"}"#)
        let cancel = JobEnvelope(kind: .cancel, payload: "{}")
        try await queue.push(webhook)
        try await queue.push(cancel)
        #expect(try await driver.depths() == QueueDepths(webhooks: 1, commands: 1, delayed: 0, dead: 0))

        let commands = try await driver.fetch(from: .commands, workerID: "w1", maxBatch: 5, blockTimeout: .milliseconds(50))
        let webhooks = try await driver.fetch(from: .webhooks, workerID: "w1", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(commands.map(\.envelope?.id) == [cancel.id] && webhooks.map(\.envelope?.id) == [webhook.id])
        #expect(try await driver.fetch(from: .webhooks, workerID: "w1", maxBatch: 5, blockTimeout: .milliseconds(20)).isEmpty)

        try await driver.retry(commands[0], workerID: "w1", dueAt: JobEnvelope.nowMilliseconds() + 60_000, error: "booxi answered 503")
        #expect(try await driver.promoteDue(now: JobEnvelope.nowMilliseconds(), limit: 10) == 0)  // not due yet
        #expect(try await driver.promoteDue(now: JobEnvelope.nowMilliseconds() + 61_000, limit: 10) == 1)
        let again = try await driver.fetch(from: .commands, workerID: "w1", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(again.first?.envelope?.attempt == 1 && again.first?.envelope?.lastError == "booxi answered 503")
        #expect(again.first?.envelope?.payload == cancel.payload)

        try await driver.deadLetter(again[0], workerID: "w1", reason: "booking is completed", lastError: nil)
        try await driver.acknowledge(webhooks, workerID: "w1")
        let letter = try #require(try await queue.deadLetters().first)
        #expect(letter.reason == "booking is completed" && letter.attempts == 2 && letter.lastError == "booxi answered 503")
        #expect(try await driver.depths() == QueueDepths(webhooks: 0, commands: 0, delayed: 0, dead: 1))
        #expect(try await driver.returnHeld(workerID: "w1") == 0)  // nothing left in hand
        await queue.finish()
    }

    @Test(arguments: Kind.allCases) func unreadableBytesAreDeadLetteredAsTheyCame(_ kind: Kind) async throws {
        let queue = try Fixture.make(kind)
        try await queue.pushRaw(Array("{not an envelope".utf8), .commands)
        let jobs = try await queue.driver.fetch(from: .commands, workerID: "w1", maxBatch: 1, blockTimeout: .milliseconds(50))
        #expect(jobs.count == 1 && jobs[0].envelope == nil)
        try await queue.driver.deadLetter(jobs[0], workerID: "w1", reason: "not a job envelope", lastError: nil)
        let letter = try #require(try await queue.deadLetters().first)
        #expect(letter.job.kind == .unreadable && letter.job.payload == "{not an envelope")
        await queue.finish()
    }

    @Test(arguments: Kind.allCases) func aDeadWorkersJobsAreReapedAndALiveOnesReturned(_ kind: Kind) async throws {
        let queue = try Fixture.make(kind)
        let driver = queue.driver
        try await queue.push(JobEnvelope(kind: .webhook, payload: "{}"))
        try await queue.push(JobEnvelope(kind: .modify, payload: "{}"))
        try await driver.heartbeat(workerIDs: ["ghost"], ttl: .seconds(30))
        _ = try await driver.fetch(from: .webhooks, workerID: "ghost", maxBatch: 5, blockTimeout: .milliseconds(50))
        _ = try await driver.fetch(from: .commands, workerID: "ghost", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(try await driver.reap(lockTTL: .seconds(1)) == 0)  // still alive
        try await driver.heartbeat(workerIDs: ["ghost"], ttl: .milliseconds(1))  // its last heartbeat, then it dies
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await driver.reap(lockTTL: .seconds(1)) == 2)
        #expect(try await driver.depths() == QueueDepths(webhooks: 1, commands: 1, delayed: 0, dead: 0))
        let reaped = try await driver.fetch(from: .webhooks, workerID: "live", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(reaped.first?.envelope?.attempt == 1 && reaped.first?.envelope?.lastError?.contains("ghost") == true)
        // A live lane that lost track hands back without counting an attempt.
        #expect(try await driver.returnHeld(workerID: "live") == 1)
        let returned = try await driver.fetch(from: .webhooks, workerID: "live", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(returned.first?.envelope?.attempt == 1)
        await queue.finish()
    }
}
