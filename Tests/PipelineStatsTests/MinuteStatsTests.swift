import CoreMetrics
import Foundation
import Logging
@testable import PipelineStats
import RedisClient
import TestSupport
import Testing

@Suite("Per-minute series: fed by the metrics, flushed to Redis, read back with percentiles")
struct MinuteStatsTests {
    @Test func theMetricsFeedTheirSeriesAndNothingElse() {
        #expect(
            MinuteSeries.of(counter: "booxi_tracking_worker_jobs_total", dimensions: [("kind", "webhook"), ("outcome", "dead")]) == .deadLettered)
        #expect(MinuteSeries.of(counter: "booxi_tracking_worker_jobs_total", dimensions: [("outcome", "other")]) == nil)
        #expect(MinuteSeries.of(counter: "booxi_tracking_api_throttled_total", dimensions: []) == nil)
        let tally = MinuteTally()
        let factory = MinuteStatsFactory(tally: tally)
        factory.makeCounter(label: "booxi_tracking_ingress_webhooks_accepted_total", dimensions: []).increment(by: 3)
        factory.makeCounter(label: "booxi_tracking_api_throttled_total", dimensions: []).increment(by: 5)
        factory.makeTimer(label: "booxi_tracking_ingress_push_duration_seconds", dimensions: []).recordNanoseconds(1_500_000)
        let drained = Dictionary(uniqueKeysWithValues: tally.drain().map { ($0.field, $0.count) })
        #expect(drained == ["accepted": 3, MinuteSeries.latencyField(bucket: 2): 1])
        #expect(tally.drain().isEmpty)
    }

    @Test func percentilesFromBuckets() {
        var buckets = [Int](repeating: 0, count: MinuteSeries.latencyBucketsMilliseconds.count + 1)
        buckets[1] = 98
        buckets[5] = 2
        #expect(MinuteStatsReader.percentile(0.5, buckets) == 1)
        #expect(MinuteStatsReader.percentile(0.99, buckets) == 25)
        #expect(MinuteStatsReader.percentile(0.5, [0, 0]) == nil)
    }

    @Test func twoProcessesAddToTheSameMinute() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        for _ in 0..<2 {
            let tally = MinuteTally()
            tally.slot(.applied).value.add(7, ordering: .relaxed)
            let flusher = MinuteStatsFlusher(redis: redis, keyPrefix: "bxt:", tally: tally, logger: Logger(label: "test"))
            var pending: [String: Int] = [:]
            try await flusher.flush(into: &pending)
            #expect(pending.isEmpty)
        }
        let points = try await MinuteStatsReader(redis: redis, keyPrefix: "bxt:").last(60)
        // Summed: on a loaded machine the two flushes may fall on either side of a minute's end.
        let applied = points.map { $0.counts["applied"] ?? 0 }
        #expect(points.count == 60 && applied.reduce(0, +) == 14 && applied.first == 0)
        let written = try #require(points.last { ($0.counts["applied"] ?? 0) > 0 })
        let ttl = try await redis.send("TTL", MinuteStatsKeys(prefix: "bxt:").minute(written.minute)).int ?? 0
        #expect(ttl > 47 * 3600 && ttl <= 48 * 3600)
        await redis.shutdown()
    }
}
