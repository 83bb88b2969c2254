import Foundation
import RedisClient

/// The dead-letter list, for operators: read, replay (the job goes back to its waiting list with
/// its attempts reset, byte for byte otherwise) and purge, chosen by job id.
extension JobQueue: QueueOperationsDriver {
    /// The newest `limit` dead letters, newest first.
    public func deadLetters(limit: Int = 50) async throws -> [DeadLetter] {
        try await redis.lrange(keys.dead, 0, limit - 1).compactMap { try? JSONDecoder().decode(DeadLetter.self, from: Data($0)) }
    }

    /// Every dead letter (at most `limit`), newest first, with the ones that are not readable left out.
    public func allDeadLetters(limit: Int = 10_000) async throws -> [DeadLetter] {
        try await deadLetters(limit: limit)
    }

    public func replayDeadLetters(ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await redis.eval(QueueScripts.replaySelected, keys: [keys.dead, keys.webhooks, keys.commands], arguments: ids).int ?? 0
    }

    public func purgeDeadLetters(ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await redis.eval(QueueScripts.purgeSelected, keys: [keys.dead], arguments: ids).int ?? 0
    }
}
