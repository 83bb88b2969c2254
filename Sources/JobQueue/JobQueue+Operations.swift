import Foundation
import RedisClient

/// What the operations console and the admin CLI do to the queue: choose dead letters and delayed
/// jobs by id, look into a worker's hands, and remove every job that mentions a booking (erase).
/// The scripts live in ``QueueScripts`` with the rest of the queue's Lua.
extension JobQueue {
    /// Every dead letter (at most `limit`), newest first, with the ones that are not readable left out.
    public func allDeadLetters(limit: Int = 10_000) async throws -> [DeadLetter] {
        try await deadLetters(limit: limit)
    }

    /// Replays the dead letters with these job ids (attempts reset); returns how many went back.
    public func replayDeadLetters(ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await redis.eval(QueueScripts.replaySelected, keys: [keys.dead, keys.webhooks, keys.commands], arguments: ids).int ?? 0
    }

    /// Deletes the dead letters with these job ids; returns how many there were.
    public func purgeDeadLetters(ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await redis.eval(QueueScripts.purgeSelected, keys: [keys.dead], arguments: ids).int ?? 0
    }

    /// A job waiting for its retry, and when it is due (ms since 1970).
    public struct DelayedJob: Sendable, Equatable {
        public let envelope: JobEnvelope
        public let dueAt: Int64
    }

    /// The delayed set, soonest first (at most `limit`).
    public func delayedJobs(limit: Int = 500) async throws -> [DelayedJob] {
        let reply = try await redis.send("ZRANGE", keys.delayed, 0, limit - 1, "WITHSCORES").array ?? []
        return stride(from: 0, to: reply.count - 1, by: 2).compactMap { index in
            guard let bytes = reply[index].bytes, let envelope = try? JobEnvelope.decode(bytes),
                let score = reply[index + 1].string.flatMap(Double.init)
            else { return nil }
            return DelayedJob(envelope: envelope, dueAt: Int64(score))
        }
    }

    /// Moves the delayed job with this id to its waiting list now; false when it is no longer delayed.
    public func retryNow(id: String) async throws -> Bool {
        try await redis.eval(QueueScripts.retryNow, keys: [keys.delayed, keys.webhooks, keys.commands], arguments: [id]).int == 1
    }

    /// The jobs a worker lane holds, and how long its heartbeat has left (ms; nil when expired).
    public func inHand(workerID: String) async throws -> (jobs: [JobEnvelope], heartbeatRemaining: Int?) {
        var pipeline = RedisPipeline()
        pipeline.append("LRANGE", keys.processing(workerID), 0, 99)
        pipeline.append("PTTL", keys.heartbeat(workerID))
        let replies = try await redis.execute(pipeline)
        let jobs = (replies[0].array ?? []).compactMap { $0.bytes.flatMap { try? JobEnvelope.decode($0) } }
        let remaining = replies[1].int.flatMap { $0 >= 0 ? $0 : nil }
        return (jobs, remaining)
    }

    /// Removes every waiting, delayed and dead job whose bytes contain one of `needles` (a
    /// booking's id and codes); returns how many. Jobs in a worker's hands finish, and find the
    /// booking erased.
    public func removeJobs(mentioning needles: [String]) async throws -> Int {
        let needles = needles.filter { !$0.isEmpty }
        guard !needles.isEmpty else { return 0 }
        return try await redis.eval(
            QueueScripts.removeMentioning, keys: [keys.dead, keys.webhooks, keys.commands, keys.delayed], arguments: needles
        ).int ?? 0
    }
}
