import Foundation
import JobQueue
import Logging
import RedisClient
import TestSupport
import Testing
@testable import Worker

@Suite("Housekeeper across a Redis outage: a few lines, then back to its cadence")
struct HousekeeperOutageTests {
    @Test func aThreeSecondOutageIsTwoLinesNotOneEvery250Milliseconds() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        let queue = JobQueue(redis: redis)
        let logs = LogCapture()
        let housekeeper = Housekeeper(
            driver: queue, laneIDs: ["outage-test-0"], heartbeatTTL: .seconds(30), reaperInterval: .seconds(1),
            metrics: WorkerMetrics(kinds: []), logger: logs.logger)
        let task = Task { await housekeeper.run() }

        try await Task.sleep(for: .milliseconds(300))
        server.kill()
        try await Task.sleep(for: .seconds(3))
        try server.start()

        // Back to its cadence: a retry that falls due is promoted within a few ticks.
        var resumed = false
        var promoted = false
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, !promoted {
            if !resumed, logs.text.contains("housekeeping resumed") {
                resumed = true
                _ = try await redis.send("ZADD", QueueKeys().delayed, String(JobEnvelope.nowMilliseconds()), "not-a-job")
            } else if resumed {
                promoted = try await redis.send("ZCARD", QueueKeys().delayed).int == 0
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        task.cancel()
        await task.value

        #expect(resumed && promoted)
        let lines = logs.text.split(separator: "\n").filter { $0.contains("housekeeping") }
        #expect(lines.filter { $0.contains("housekeeping paused: Redis unreachable") }.count == 1)
        #expect(lines.count == 2, "\(logs.text)")
        await redis.shutdown()
    }
}
