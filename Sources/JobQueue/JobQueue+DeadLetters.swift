import Foundation
import RedisClient

/// The dead-letter list, for operators: read, replay (the job goes back to its waiting list with
/// its attempts reset, byte for byte otherwise) and purge.
extension JobQueue {
    /// The newest `limit` dead letters, newest first.
    public func deadLetters(limit: Int = 50) async throws -> [DeadLetter] {
        try await redis.lrange(keys.dead, 0, limit - 1).compactMap { try? JSONDecoder().decode(DeadLetter.self, from: Data($0)) }
    }

    /// Replays the oldest `limit` dead letters; returns how many went back.
    @discardableResult
    public func replayDeadLetters(limit: Int = .max) async throws -> Int {
        var replayed = 0
        while replayed < limit {
            let batch = min(limit - replayed, 500)
            let moved = try await redis.eval(QueueScripts.replay, keys: [keys.dead, keys.webhooks, keys.commands], arguments: [batch]).int ?? 0
            replayed += moved
            if moved < batch { break }
        }
        return replayed
    }

    /// Deletes every dead letter; returns how many there were.
    @discardableResult
    public func purgeDeadLetters() async throws -> Int {
        var pipeline = RedisPipeline()
        pipeline.append("LLEN", keys.dead)
        pipeline.append("DEL", keys.dead)
        return try await redis.execute(pipeline)[0].int ?? 0
    }
}
