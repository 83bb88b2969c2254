import Foundation
import RedisClient

/// Reads the per-minute series back for a chart: one point per minute (missing minutes are
/// zeros), with the push latency's p50 and p99 from the minute's buckets.
public struct MinuteStatsReader: Sendable {
    let redis: RedisClient
    let keys: MinuteStatsKeys

    public init(redis: RedisClient, keyPrefix: String) {
        self.redis = redis
        self.keys = MinuteStatsKeys(prefix: keyPrefix)
    }

    public struct Point: Sendable, Equatable, Codable {
        /// Minutes since 1970.
        public var minute: Int
        public var counts: [String: Int]
        /// Milliseconds: the upper bound of the bucket holding the percentile; nil without pushes.
        public var pushP50: Double?
        public var pushP99: Double?
    }

    /// The last `minutes` minutes, oldest first, ending with the current one.
    public func last(_ minutes: Int, now: Date = Date()) async throws -> [Point] {
        let current = MinuteStatsKeys.minute(of: now)
        let range = (current - minutes + 1)...current
        var pipeline = RedisPipeline()
        for minute in range { pipeline.append("HGETALL", keys.minute(minute)) }
        let replies = try await redis.execute(pipeline)
        return zip(range, replies).map { minute, reply in
            let fields = reply.fields.compactMapValues { Int(String(decoding: $0, as: UTF8.self)) }
            var counts: [String: Int] = [:]
            for series in MinuteSeries.allCases where series != .pushLatency { counts[series.field] = fields[series.field] ?? 0 }
            let buckets = (0...MinuteSeries.latencyBucketsMilliseconds.count).map { fields[MinuteSeries.latencyField(bucket: $0)] ?? 0 }
            return Point(minute: minute, counts: counts, pushP50: Self.percentile(0.5, buckets), pushP99: Self.percentile(0.99, buckets))
        }
    }

    /// The bucket bound below which `quantile` of the pushes fell (the last bucket: its lower bound).
    static func percentile(_ quantile: Double, _ buckets: [Int]) -> Double? {
        let total = buckets.reduce(0, +)
        guard total > 0 else { return nil }
        var seen = 0
        for (index, count) in buckets.enumerated() {
            seen += count
            if Double(seen) >= quantile * Double(total) {
                let bounds = MinuteSeries.latencyBucketsMilliseconds
                return index < bounds.count ? bounds[index] : bounds[bounds.count - 1]
            }
        }
        return nil
    }
}
