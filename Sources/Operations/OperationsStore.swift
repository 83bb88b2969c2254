import Foundation
import JobQueue
import PipelineStats
import RedisClient
import TrackingConfig
import TrackingCore

/// The queries and repairs the operations console and the admin CLI share: one piece of code for
/// each, so a script against `/console/api/...` and an operator at the CLI see the same answers.
public struct OperationsStore: Sendable {
    public let redis: RedisClient
    public let queue: JobQueue
    public let mappings: MappingStore
    public let timeline: BookingTimeline
    public let stats: MinuteStatsReader
    public let audit: AuditLog
    /// How long a worker's heartbeat lives (`worker.heartbeatTtlMs`), to turn its remaining TTL into an age.
    public let heartbeatTTL: Duration

    public init(redis: RedisClient, keyPrefix: String, queueShards: Int = 1, retentionHours: Int, heartbeatTTL: Duration) {
        self.redis = redis
        queue = JobQueue(redis: redis, shards: QueueShards(prefix: keyPrefix, count: queueShards))
        mappings = MappingStore(redis: redis, keys: MappingKeys(prefix: keyPrefix, cluster: redis.isCluster), retentionSeconds: retentionHours * 3600)
        timeline = BookingTimeline(keyPrefix: keyPrefix, cluster: redis.isCluster)
        stats = MinuteStatsReader(redis: redis, keyPrefix: keyPrefix)
        audit = AuditLog(redis: redis, keyPrefix: keyPrefix)
        self.heartbeatTTL = heartbeatTTL
    }
}

extension OperationsStore {
    /// The store for a configuration's Redis key prefix, retention and heartbeat.
    public init(configuration: AppConfiguration, redis: RedisClient) {
        self.init(
            redis: redis, keyPrefix: configuration.keyPrefix, queueShards: configuration.queueShards.count,
            retentionHours: configuration.worker.recordRetentionHours,
            heartbeatTTL: configuration.worker.heartbeatTTL)
    }
}
