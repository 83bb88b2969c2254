import Foundation
import Logging
@testable import PipelineStats
import RedisClient
import TestSupport
import Testing

@Suite("Per-minute stats across a Redis outage: a few lines, no lost counts")
struct MinuteStatsOutageTests {
    /// Every `applied` count in the last hour's series.
    static func applied(_ redis: RedisClient) async -> Int {
        let points = (try? await MinuteStatsReader(redis: redis, keyPrefix: "bxt:").last(60)) ?? []
        return points.reduce(0) { $0 + ($1.counts["applied"] ?? 0) }
    }

    static func waitUntil(_ timeout: Duration = .seconds(20), _ condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func aThreeSecondOutageIsTwoLinesAndTheCountsArriveAfterwards() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        let logs = LogCapture()
        let tally = MinuteTally()
        let services = BackgroundServices([MinuteStatsFlusher(redis: redis, keyPrefix: "bxt:", tally: tally, logger: logs.logger)])

        tally.slot(.applied).value.add(2, ordering: .relaxed)
        #expect(await Self.waitUntil { await Self.applied(redis) == 2 })

        server.kill()
        // Counts keep arriving while Redis is away; the flusher keeps trying for about 3 s.
        for _ in 0..<30 {
            tally.slot(.applied).value.add(1, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(100))
        }
        try server.start()
        // The restarted server keeps nothing (no persistence): what arrives is the outage's counts.
        #expect(await Self.waitUntil { await Self.applied(redis) == 30 })
        await services.stop()

        // The old flusher logged a line a second (three or more here); the policy logs the start and the end.
        let lines = logs.text.split(separator: "\n")
        #expect(lines.filter { $0.contains("per-minute stats paused: Redis unreachable") }.count == 1)
        #expect(lines.filter { $0.contains("per-minute stats resumed: Redis reachable again") }.count == 1)
        #expect(lines.count == 2, "\(logs.text)")
        await redis.shutdown()
    }
}
