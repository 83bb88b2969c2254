import Foundation
import RedisClient

/// What the operations console and the admin CLI do to the queue beyond the dead letters
/// (JobQueue+DeadLetters.swift): choose delayed jobs by id, look into a worker's hands, and remove
/// a booking's jobs (erase).
/// The scripts live in ``QueueScripts`` with the rest of the queue's Lua.
extension JobQueue {
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

    public func retryNow(id: String) async throws -> Bool {
        try await redis.eval(QueueScripts.retryNow, keys: [keys.delayed, keys.webhooks, keys.commands], arguments: [id]).int == 1
    }

    /// The jobs a worker lane holds, and how long its heartbeat has left (ms; nil when expired).
    public func inHand(laneID: String) async throws -> (jobs: [JobEnvelope], heartbeatRemaining: Int?) {
        var pipeline = RedisPipeline()
        pipeline.append("LRANGE", keys.processing(laneID), 0, 99)
        pipeline.append("PTTL", keys.heartbeat(laneID))
        let replies = try await redis.execute(pipeline)
        let jobs = (replies[0].array ?? []).compactMap { $0.bytes.flatMap { try? JobEnvelope.decode($0) } }
        let remaining = replies[1].int.flatMap { $0 >= 0 ? $0 : nil }
        return (jobs, remaining)
    }

    /// Removes these exact entries (as read with `LRANGE`/`ZSCAN`) from `key`, a list or, with
    /// `sorted`, the delayed set; returns how many went. Erase reads the queue in windows, parses
    /// each job, and hands back only the ones that are the booking's.
    public func removeEntries(_ entries: [[UInt8]], from key: String, sorted: Bool = false) async throws -> Int {
        guard !entries.isEmpty else { return 0 }
        let arguments: [any RedisArgumentConvertible] = [sorted ? "zset" : "list"] + entries.map { $0 as any RedisArgumentConvertible }
        return try await redis.eval(QueueScripts.removeEntries, keys: [key], arguments: arguments).int ?? 0
    }
}
