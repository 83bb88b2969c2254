import Foundation
import RedisClient

/// The dead-letter list, for operators: read, replay (the job goes back to its waiting list with
/// its attempts reset, byte for byte otherwise) and purge, chosen by job id.
extension JobQueue: QueueOperationsDriver {
    /// The newest `limit` dead letters, newest first (each shard's newest, merged).
    public func deadLetters(limit: Int = 50) async throws -> [DeadLetter] {
        var pipeline = RedisPipeline()
        for keys in shards.all { pipeline.append("LRANGE", keys.dead, 0, limit - 1) }
        let letters = try await redis.execute(pipeline).flatMap { reply in
            (try RedisClient.checked(reply).array ?? []).compactMap {
                $0.bytes.flatMap { try? JSONDecoder().decode(DeadLetter.self, from: Data($0)) }
            }
        }
        guard shards.count > 1 else { return letters }
        return Array(letters.sorted { $0.failedAt > $1.failedAt }.prefix(limit))
    }

    /// Every dead letter (at most `limit`), newest first, with the ones that are not readable left out.
    public func allDeadLetters(limit: Int = 10_000) async throws -> [DeadLetter] {
        try await deadLetters(limit: limit)
    }

    /// Each letter goes back to the waiting list of the shard it died in (its booking's).
    public func replayDeadLetters(ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        var pipeline = RedisPipeline()
        for keys in shards.all { pipeline.append(QueueScripts.replaySelected, keys: [keys.dead, keys.webhooks, keys.commands], arguments: ids) }
        return try await redis.execute(pipeline).reduce(0) { $0 + (try RedisClient.checked($1).int ?? 0) }
    }

    public func purgeDeadLetters(ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        var pipeline = RedisPipeline()
        for keys in shards.all { pipeline.append(QueueScripts.purgeSelected, keys: [keys.dead], arguments: ids) }
        return try await redis.execute(pipeline).reduce(0) { $0 + (try RedisClient.checked($1).int ?? 0) }
    }
}
