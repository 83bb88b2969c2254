import Foundation
import Logging
import RedisClient
import ServiceLifecycle

/// Adds this process' counts to the minute's hash in Redis once a second (one pipelined round
/// trip, nothing when idle): `stats:<epoch minute>`, kept 48 hours. A flush that fails puts its
/// counts back for the next one, so a Redis outage delays the series without losing counts.
public struct MinuteStatsFlusher: Service {
    public static let retentionSeconds = 48 * 3600

    let redis: RedisClient
    let keys: MinuteStatsKeys
    let tally: MinuteTally
    let logger: Logger

    public init(redis: RedisClient, keyPrefix: String, tally: MinuteTally = .shared, logger: Logger) {
        self.redis = redis
        self.keys = MinuteStatsKeys(prefix: keyPrefix)
        self.tally = tally
        self.logger = logger
    }

    public func run() async throws {
        var pending: [String: Int] = [:]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .seconds(1))
            await flush(into: &pending)
        }
        await flush(into: &pending)
    }

    func flush(into pending: inout [String: Int]) async {
        for (field, count) in tally.drain() { pending[field, default: 0] += count }
        guard !pending.isEmpty else { return }
        let key = keys.minute(MinuteStatsKeys.minute(of: Date()))
        var pipeline = RedisPipeline()
        for (field, count) in pending { pipeline.append("HINCRBY", key, field, count) }
        pipeline.append("EXPIRE", key, Self.retentionSeconds)
        do {
            _ = try await redis.execute(pipeline)
            pending.removeAll(keepingCapacity: true)
        } catch {
            logger.notice("per-minute stats not written yet; kept for the next flush", metadata: ["error": "\(error)"])
        }
    }
}

/// Where the per-minute series live: one hash per minute, `stats:<minutes since 1970>`.
public struct MinuteStatsKeys: Sendable {
    public let prefix: String

    public init(prefix: String) {
        self.prefix = prefix
    }

    public func minute(_ minute: Int) -> String { prefix + "stats:" + String(minute) }

    public static func minute(of date: Date) -> Int { Int(date.timeIntervalSince1970 / 60) }
}
