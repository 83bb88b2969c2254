import Foundation
import RedisClient

/// What the operations console and the admin CLI do to the queue beyond the dead letters
/// (JobQueue+DeadLetters.swift): choose delayed jobs by id, look into a worker's hands, and remove
/// a booking's jobs (erase).
/// The scripts live in ``QueueScripts`` with the rest of the queue's Lua.
extension JobQueue {
    /// The delayed set, soonest first (at most `limit`).
    /// The delayed set, soonest first (at most `limit`; every shard's soonest, merged).
    public func delayedJobs(limit: Int = 500) async throws -> [DelayedJob] {
        var pipeline = RedisPipeline()
        for keys in shards.all { pipeline.append("ZRANGE", keys.delayed, 0, limit - 1, "WITHSCORES") }
        let jobs = try await redis.execute(pipeline).flatMap { shardReply in
            let reply = try RedisClient.checked(shardReply).array ?? []
            return stride(from: 0, to: reply.count - 1, by: 2).compactMap { index -> DelayedJob? in
                guard let bytes = reply[index].bytes, let envelope = try? JobEnvelope.decode(bytes),
                    let score = reply[index + 1].string.flatMap(Double.init)
                else { return nil }
                return DelayedJob(envelope: envelope, dueAt: Int64(score))
            }
        }
        guard shards.count > 1 else { return jobs }
        return Array(jobs.sorted { $0.dueAt < $1.dueAt }.prefix(limit))
    }

    public func retryNow(id: String) async throws -> Bool {
        for keys in shards.all {
            if try await redis.eval(QueueScripts.retryNow, keys: [keys.delayed, keys.webhooks, keys.commands], arguments: [id]).int == 1 {
                return true
            }
        }
        return false
    }

    /// The jobs a worker lane holds (in every shard), and how long its heartbeat has left (ms; nil when expired).
    public func inHand(laneID: String) async throws -> (jobs: [JobEnvelope], heartbeatRemaining: Int?) {
        var pipeline = RedisPipeline()
        pipeline.append("PTTL", shards[0].heartbeat(laneID))
        for keys in shards.all { pipeline.append("LRANGE", keys.processing(laneID), 0, 99) }
        let replies = try await redis.execute(pipeline)
        let jobs = replies.dropFirst().flatMap { ($0.array ?? []).compactMap { $0.bytes.flatMap { try? JobEnvelope.decode($0) } } }
        let remaining = replies[0].int.flatMap { $0 >= 0 ? $0 : nil }
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
