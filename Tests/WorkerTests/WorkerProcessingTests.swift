import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing
import TrackingCore
import Worker

@Suite("Worker: webhooks applied, bad ones dead-lettered, retries and replay")
struct WorkerProcessingTests {
    @Test func malformedWebhooksEndInTheDeadLettersWithTheirReasonAndValidOnesApply() async throws {
        let test = try WorkerTestCase()
        defer { Task { await test.finish() } }
        let bodies: [(String, String?)] = [
            (webhookBody("booking.confirmed", booking: "OK1", code: "goodcode1"), nil),
            ("not json at all", "body is not a JSON object"),
            (#"{"event":"booking.teleported","booking":{}}"#, "unknown event 'booking.teleported'"),
            (#"{"event":"booking.confirmed","booking":{"confirmationNumber":"X1"}}"#, "missing field booking.client.trackingPage.viewURL"),
            (
                webhookBody("booking.confirmed", booking: "X2", code: "ab"),
                "bad viewURL: tracking code has a bad shape (4-128 characters A-Z a-z 0-9 - _)"
            ),
            (
                #"{"event":"booking.confirmed","booking":{"confirmationNumber":"\#(String(repeating: "9", count: 100_000))"}}"#,
                "invalid field booking.confirmationNumber"
            ),
            (#"{"event":"\#(String(repeating: "e", count: 100_000))"}"#, "unknown event '" + String(repeating: "e", count: 64) + "'"),
        ]
        for (body, _) in bodies { try await test.queue.push(JobEnvelope(kind: .webhook, payload: body)) }
        try await test.redis.send("LPUSH", test.keys.webhooks, "{not an envelope")
        try await test.runWorker(lanes: [test.webhookLane()]) {
            try await test.queue.depths().dead == 7
        }
        let dead = try await test.queue.deadLetters(limit: 20)
        let reasons = Set(dead.map(\.reason))
        for (_, reason) in bodies { if let reason { #expect(reasons.contains(reason), "\(reason)") } }
        #expect(reasons.contains("not a job envelope"))
        #expect(dead.allSatisfy { $0.attempts == 1 && $0.failedAt > 0 })
        // The bad body is kept as it came, so it can be inspected and replayed.
        #expect(dead.contains { $0.job.payload == "not json at all" })
        #expect(try await test.mappings.resolve(TrackingCode("goodcode1")!)?.bookingID == "OK1")
        #expect(try await test.redis.held(by: "test-worker") == 0)
        #expect(try await test.queue.depths().webhooks == 0)
    }

    @Test func aWebhookClaimingAnotherLiveBookingsCodeIsDeadLetteredAndChangesNothing() async throws {
        let test = try WorkerTestCase()
        defer { Task { await test.finish() } }
        try await test.queue.push(JobEnvelope(kind: .webhook, payload: webhookBody("booking.confirmed", booking: "OWN1", code: "ownedcode1")))
        try await test.runWorker(lanes: [test.webhookLane()]) { try await test.mappings.resolve(TrackingCode("ownedcode1")!) != nil }
        try await test.queue.push(JobEnvelope(kind: .webhook, payload: webhookBody("booking.modified", booking: "THIEF1", code: "ownedcode1")))
        try await test.runWorker(lanes: [test.webhookLane()]) { try await test.queue.depths().dead == 1 }
        let dead = try #require(try await test.queue.deadLetters(limit: 5).first)
        #expect(dead.reason == "tracking code belongs to another live booking; the code was not moved")
        #expect(try await test.mappings.resolve(TrackingCode("ownedcode1")!)?.bookingID == "OWN1")
        #expect(try await test.mappings.record(bookingID: "THIEF1") == nil)
    }

    @Test func retriesFollowThePolicyThenDeadLetterAndReplayWorks() async throws {
        let test = try WorkerTestCase()
        defer { Task { await test.finish() } }
        let handler = ScriptedHandler(outcome: .retry(error: "booxi answered 503", retryAfter: nil))
        let lane = WorkerService.Lane(queue: .commands, handler: handler, count: 1)
        let job = JobEnvelope(kind: .cancel, payload: #"{"code":"x"}"#)
        try await test.queue.push(job)
        try await test.runWorker(lanes: [lane]) { try await test.queue.depths().dead == 1 }
        #expect(handler.calls == 3)  // maxAttempts 3
        let letter = try #require(try await test.queue.deadLetters().first)
        #expect(letter.reason == "gave up after 3 attempts")
        #expect(letter.lastError == "booxi answered 503")
        #expect(letter.job.id == job.id && letter.job.payload == job.payload)

        // Replay: back on its queue with a fresh attempt count; this time Booxi answers.
        #expect(try await test.queue.replayDeadLetters() == 1)
        #expect(try await test.queue.depths() == QueueDepths(webhooks: 0, commands: 1, delayed: 0, dead: 0))
        handler.setOutcome(.succeeded)
        try await test.runWorker(lanes: [lane]) { try await test.queue.depths().commands == 0 && handler.calls == 4 }
        #expect(try await test.queue.depths() == QueueDepths(webhooks: 0, commands: 0, delayed: 0, dead: 0))
        #expect(try await test.redis.held(by: "test-worker") == 0)
    }

    @Test func aLaneReturnsJobsItHeldBeforeARestartOrAnOutage() async throws {
        let test = try WorkerTestCase()
        defer { Task { await test.finish() } }
        // A job the lane's processing list holds but no lane tracks (say Redis went away between
        // BLMOVE and its reply, or the worker restarted with the same id).
        let body = webhookBody("booking.confirmed", booking: "H1", code: "heldcode1")
        try await test.redis.send("LPUSH", test.keys.processing("test-worker-0"), JobEnvelope(kind: .webhook, payload: body).encoded())
        try await test.runWorker(lanes: [test.webhookLane()]) {
            try await test.mappings.resolve(TrackingCode("heldcode1")!) != nil
        }
        #expect(try await test.mappings.resolve(TrackingCode("heldcode1")!)?.bookingID == "H1")
        #expect(try await test.redis.held(by: "test-worker") == 0)
    }

    @Test func permanentFailuresSkipRetries() async throws {
        let test = try WorkerTestCase()
        defer { Task { await test.finish() } }
        let handler = ScriptedHandler(outcome: .failed(reason: "booking is completed"))
        try await test.queue.push(JobEnvelope(kind: .cancel, payload: "{}"))
        try await test.runWorker(lanes: [WorkerService.Lane(queue: .commands, handler: handler, count: 1)]) {
            try await test.queue.depths().dead == 1
        }
        #expect(handler.calls == 1)
        #expect(try await test.queue.deadLetters().first?.reason == "booking is completed")
    }

    @Test func reaperReturnsADeadWorkersJobsCountingTheAttempt() async throws {
        let test = try WorkerTestCase()
        defer { Task { await test.finish() } }
        let registry = test.queue
        // A worker that took two jobs and died (its heartbeat expired).
        try await test.queue.push(JobEnvelope(kind: .webhook, payload: webhookBody("booking.confirmed", booking: "R1", code: "reaped01")))
        try await test.queue.push(JobEnvelope(kind: .cancel, payload: "{}"))
        try await registry.heartbeat(laneIDs: ["ghost"], ttl: .seconds(30))
        _ = try await test.queue.fetch(from: .webhooks, laneID: "ghost", maxBatch: 5, blockTimeout: .milliseconds(50))
        _ = try await test.queue.fetch(from: .commands, laneID: "ghost", maxBatch: 5, blockTimeout: .milliseconds(50))
        #expect(try await registry.reap(lockTTL: .seconds(1)) == 0)  // still alive
        try await test.redis.send("PEXPIRE", test.keys.heartbeat("ghost"), 1)  // its heartbeat runs out
        try await Task.sleep(for: .milliseconds(20))
        // Only one reaper at a time.
        try await test.redis.send("SET", test.keys.reaperLock, "someone-else", "PX", 1000)
        #expect(try await registry.reap(lockTTL: .seconds(1)) == nil)
        try await test.redis.del(test.keys.reaperLock)
        #expect(try await registry.reap(lockTTL: .seconds(1)) == 2)
        #expect(try await test.redis.llen(test.keys.processing("ghost")) == 0)
        #expect(try await test.redis.exists(test.keys.reaperLock) == false)
        let webhook = try JobEnvelope.decode(try #require(try await test.redis.lrange(test.keys.webhooks, 0, -1).first))
        #expect(webhook.attempt == 1 && webhook.lastError?.contains("ghost") == true)
        #expect(webhook.payload == webhookBody("booking.confirmed", booking: "R1", code: "reaped01"))
        #expect(try await test.redis.llen(test.keys.commands) == 1)
    }
}

extension RedisClient {
    func exists(_ key: String) async throws -> Bool { try await send("EXISTS", key) == .integer(1) }

    /// Jobs held by every lane of a worker (`processing:<worker>-<n>`).
    func held(by worker: String) async throws -> Int {
        try await send(
            "EVAL", "local n = 0 for _, k in ipairs(redis.call('KEYS', ARGV[1])) do n = n + redis.call('LLEN', k) end return n", 0,
            "bxt:{q}:processing:\(worker)-*"
        ).int ?? -1
    }
}
