import AsyncHTTPClient
import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing
import TrackingCore

@Suite("Worker processes: kill -9 recovery and several workers on one queue", .serialized, .tags(.slow), .fullTierOnly)
struct WorkerProcessTests {
    /// A worker whose lanes count as dead `heartbeatTTLMs` after their last heartbeat: short for the
    /// kill -9 test's recovery, long where no worker dies (a loaded CI machine once stalled a live
    /// worker past 2 s, and its batch of 256 was recovered and applied a second time).
    static func startWorker(_ id: String, redis: RedisServer, port: Int, heartbeatTTLMs: Int = 2_000) throws -> RoleProcess {
        try RoleProcess(
            ["worker", "--id", id],
            environment: [
                "BXT_REDIS_URL": redis.url, "BXT_WORKER_PORT": "\(port)", "BXT_WORKER_HOST": "127.0.0.1",
                "BXT_WORKER_HEARTBEAT_TTL_MS": "\(heartbeatTTLMs)", "BXT_WORKER_REAPER_INTERVAL_MS": "500", "BXT_WORKER_CONCURRENCY": "2",
                "BXT_LOG_LEVEL": "warning", "BOOXI_PARTNER_API_KEY": "test-partner-key",
            ])
    }

    static func preload(_ bodies: [String], into redis: RedisClient) async throws {
        let queue = JobQueue(redis: redis)
        for chunk in stride(from: 0, to: bodies.count, by: 2_000) {
            var pipeline = RedisPipeline()
            for body in bodies[chunk..<min(chunk + 2_000, bodies.count)] {
                queue.appendPush(JobEnvelope(kind: .webhook, payload: body), forBooking: nil, to: &pipeline)
            }
            _ = try await redis.execute(pipeline)
        }
    }

    static func count(_ pattern: String, in redis: RedisClient) async throws -> Int {
        try await redis.send("EVAL", "return #redis.call('KEYS', ARGV[1])", 0, pattern).int ?? -1
    }

    static func waitFor(_ timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    static func succeededJobs(ports: [Int]) async throws -> Int {
        try await metricTotal(#"booxi_tracking_worker_jobs_total{kind="webhook",outcome="succeeded"}"#, ports: ports)
    }

    /// The sum over the processes' `/metrics` of the sample whose name (and labels) is `series`.
    static func metricTotal(_ series: String, ports: [Int]) async throws -> Int {
        var total = 0
        for port in ports {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(5))
            let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
            let line = text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
            total += line.flatMap { Int(Double($0.split(separator: " ").last ?? "") ?? -1) } ?? 0
        }
        return total
    }

    @Test func killedWorkersBatchIsRecoveredAndEveryJobApplied() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let total = 30_000
        try await Self.preload((0..<total).map { webhookBody("booking.confirmed", booking: "K\($0)", code: "kcode\($0)") }, into: redis)

        let first = try Self.startWorker("victim", redis: server, port: freeLoopbackPort())
        defer { first.stop() }
        // Freeze the worker at a moment it holds a batch (SIGSTOP), so it is still holding it when
        // SIGKILL arrives; batches come and go quickly, so a plain check-then-kill races.
        let holding = try await Self.waitFor(.seconds(30)) {
            guard try await redis.held(by: "victim") > 0 else { return false }
            first.signal(SIGSTOP)
            if try await redis.held(by: "victim") > 0 { return true }
            first.signal(SIGCONT)
            return false
        }
        #expect(holding, "the worker never held a batch; log:\n\(first.log)")
        first.signal(SIGKILL)
        let killedAt = ContinuousClock.now
        _ = await first.waitForExit()
        let heldAtDeath = try await redis.held(by: "victim")
        #expect(heldAtDeath > 0)

        let second = try Self.startWorker("survivor", redis: server, port: freeLoopbackPort())
        defer { second.stop() }
        let recovered = try await Self.waitFor(.seconds(30)) { try await redis.held(by: "victim") == 0 }
        let recoveryTime = ContinuousClock.now - killedAt
        #expect(recovered)
        #expect(recoveryTime < .seconds(30), "recovery took \(recoveryTime)")
        let drained = try await Self.waitFor(.seconds(120)) {
            let waiting = try await redis.llen("bxt:{q}:webhooks")
            let held = try await redis.held(by: "survivor")
            return waiting == 0 && held == 0
        }
        #expect(drained)
        #expect(try await Self.count("bxt:{m}:code:*", in: redis) == total)
        #expect(try await redis.llen("bxt:{q}:dead") == 0)
        second.signal(SIGTERM)
        #expect(await second.waitForExit() == 0)
        print("kill -9 recovery: held \(heldAtDeath) jobs at death, recovered in \(recoveryTime)")
    }

    @Test(arguments: [2, 4])
    func severalWorkersApplyEveryEventOnce(workers: Int) async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        // 1,500 bookings, each confirmed, modified (new code) and cancelled, delivered shuffled.
        var random = SeededRandom(seed: UInt64(workers))
        var bodies: [String] = []
        for booking in 0..<1_500 {
            let base: Int64 = 1_700_000_000_000 + Int64(booking) * 10_000
            bodies.append(webhookBody("booking.confirmed", booking: "W\(booking)", code: "first\(booking)", eventTime: base))
            bodies.append(webhookBody("booking.modified", booking: "W\(booking)", code: "second\(booking)", eventTime: base + 1_000))
            bodies.append(
                webhookBody("booking.cancelled", booking: "W\(booking)", code: "second\(booking)", status: "Cancelled", eventTime: base + 2_000))
        }
        bodies.shuffle(using: &random)
        try await Self.preload(bodies, into: redis)

        let ports = (0..<workers).map { _ in freeLoopbackPort() }
        // No worker dies here: exactly once holds only while no live worker is taken for dead.
        let processes = try ports.enumerated().map {
            try Self.startWorker("w\($0.offset)", redis: server, port: $0.element, heartbeatTTLMs: 60_000)
        }
        defer { processes.forEach { $0.stop() } }
        let drained = try await Self.waitFor(.seconds(120)) {
            let waiting = try await redis.llen("bxt:{q}:webhooks")
            let held = try await redis.held(by: "w*")  // lanes are w0-0, w0-1, w1-0, ...
            return waiting == 0 && held == 0
        }
        #expect(drained)
        // Each event was processed exactly once across the workers (a lane counts a batch before
        // its ack, so once nothing is held the sum is final).
        for port in ports { try await RoleProcess.waitUntilHealthy("http://127.0.0.1:\(port)/healthz") }
        let succeeded = try await Self.succeededJobs(ports: ports)
        #expect(succeeded == bodies.count)
        // The Redis client's own metrics report too (they are made before the role's app).
        #expect(try await Self.metricTotal("booxi_tracking_redis_pipeline_commands_count", ports: ports) > 0)
        let store = MappingStore(redis: redis, keys: MappingKeys(), retentionSeconds: 3600)
        for booking in stride(from: 0, to: 1_500, by: 7) {
            #expect(try await store.resolve(TrackingCode("first\(booking)")!) == nil)
            let record = try await store.resolve(TrackingCode("second\(booking)")!)
            #expect(record?.status == "Cancelled" && record?.bookingID == "W\(booking)")
        }
        #expect(try await Self.count("bxt:{m}:code:*", in: redis) == 1_500)
        for process in processes { process.signal(SIGTERM) }
        for process in processes { #expect(await process.waitForExit() == 0) }
    }
}
