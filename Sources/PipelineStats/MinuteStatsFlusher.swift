import Foundation
import Logging
import RedisClient
import ServiceLifecycle

/// Adds this process' counts to the minute's hash in Redis once a second (one pipelined round
/// trip, nothing when idle): `stats:<epoch minute>`, kept 48 hours. A flush that fails keeps its
/// counts for the next one, so a Redis outage delays the series without losing counts; while it
/// lasts, flushes follow the shared ``OutagePause`` policy.
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
        let outage = OutagePause("per-minute stats", logger: logger)
        var pending: [String: Int] = [:]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await flush(into: &pending)
                outage.succeeded()
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            } catch {
                // The counts stay in `pending`, so the outage delays the series without losing them.
                await cancelWhenGracefulShutdown { await outage.failed(error) }
            }
        }
        do {
            try await flush(into: &pending)
        } catch {
            logger.notice("per-minute stats of the last seconds not written: Redis unreachable at shutdown", metadata: ["error": "\(error)"])
        }
    }

    /// Adds the tally to `pending` and writes it; on failure `pending` keeps it for the next call.
    func flush(into pending: inout [String: Int]) async throws {
        for (field, count) in tally.drain() { pending[field, default: 0] += count }
        guard !pending.isEmpty else { return }
        let key = keys.minute(MinuteStatsKeys.minute(of: Date()))
        var pipeline = RedisPipeline()
        for (field, count) in pending { pipeline.append("HINCRBY", key, field, count) }
        pipeline.append("EXPIRE", key, Self.retentionSeconds)
        _ = try await redis.execute(pipeline)
        pending.removeAll(keepingCapacity: true)
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
