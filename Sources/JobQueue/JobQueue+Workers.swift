import Foundation
import RedisClient

/// Crash recovery (docs/architecture.md §4): every worker lane refreshes a heartbeat key with a short TTL; a
/// reaper, one at a time under a `SET NX PX` lock with a random token, hands the processing lists
/// of lanes whose heartbeat expired back to the waiting lists, counting the interrupted attempt.
extension JobQueue {
    /// Every lane registers and beats in every shard: recovery in a shard reads only that shard's
    /// slot (the registry, the heartbeat and the processing list are one script's keys).
    public func heartbeat(laneIDs: [String], ttl: Duration) async throws {
        var pipeline = RedisPipeline()
        let now = Int(JobEnvelope.nowMilliseconds())
        for keys in shards.all {
            for laneID in laneIDs {
                pipeline.append("SET", keys.heartbeat(laneID), "1", "PX", Int(ttl.milliseconds))
                pipeline.append("ZADD", keys.workers, now, laneID)
            }
        }
        for reply in try await redis.execute(pipeline) { _ = try RedisClient.checked(reply) }
    }

    public func deregister(laneID: String) async throws {
        for keys in shards.all { try await recover(laneID, .handBackAndLeave, in: keys) }
    }

    @discardableResult
    public func returnHeld(laneID: String) async throws -> Int {
        var returned = 0
        for shard in 0..<shards.count { returned += try await returnHeld(laneID: laneID, inShard: shard) }
        return returned
    }

    @discardableResult
    public func returnHeld(laneID: String, inShard shard: Int) async throws -> Int {
        try await recover(laneID, .handBackAndStay, in: shards[shard]).int ?? 0
    }

    /// How ``QueueScripts/recover`` treats a worker's processing list.
    enum RecoveryMode: String {
        /// Its heartbeat expired (a crash): its jobs go back with the interrupted attempt counted,
        /// and the lane is deregistered.
        case requeueCrashed = "requeue-crashed"
        /// It stops cleanly: its jobs go back as they are, and the lane is deregistered.
        case handBackAndLeave = "hand-back-and-leave"
        /// It lost track of what it held: its jobs go back as they are, and it stays registered.
        case handBackAndStay = "hand-back-and-stay"
    }

    @discardableResult
    private func recover(_ laneID: String, _ mode: RecoveryMode, in keys: QueueKeys, note: String = "") async throws -> RedisReply {
        try await redis.eval(
            QueueScripts.recover,
            keys: [keys.processing(laneID), keys.webhooks, keys.commands, keys.workers, keys.heartbeat(laneID)],
            arguments: [laneID, mode.rawValue, note])
    }

    /// Each shard is reaped under its own lock; nil when another process held every one. A shard
    /// that fails does not keep the others from being reaped: its error is thrown after them.
    public func reap(lockTTL: Duration) async throws -> Int? {
        var recovered: Int?
        var failure: (any Error)?
        for keys in shards.all {
            do {
                if let count = try await reap(keys, lockTTL: lockTTL) { recovered = (recovered ?? 0) + count }
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return recovered
    }

    private func reap(_ keys: QueueKeys, lockTTL: Duration) async throws -> Int? {
        guard let token = try await redis.acquireLock(keys.reaperLock, ttl: lockTTL) else { return nil }
        var recovered = 0
        do {
            let workers = try await redis.send("ZRANGE", keys.workers, 0, -1).array?.compactMap(\.string) ?? []
            for laneID in workers {
                recovered += try await recover(laneID, .requeueCrashed, in: keys, note: JobEnvelope.crashNote(laneID: laneID)).int ?? 0
            }
        } catch {
            try? await redis.releaseLock(keys.reaperLock, token: token)
            throw error
        }
        try await redis.releaseLock(keys.reaperLock, token: token)
        return recovered
    }

    /// A registered worker lane: whether its heartbeat is alive, and how many jobs it holds.
    public struct RegisteredWorker: Sendable, Equatable {
        public let id: String
        public let alive: Bool
        public let holding: Int
    }

    /// The registered worker lanes (every lane registers in every shard; a shard's reaper may have
    /// removed one another shard still lists), with what they hold in all shards, in one round
    /// trip after the registries'.
    public func workers() async throws -> [RegisteredWorker] {
        var registries = RedisPipeline()
        for keys in shards.all { registries.append("ZRANGE", keys.workers, 0, -1) }
        var ids: [String] = []
        for reply in try await redis.execute(registries) {
            for id in try RedisClient.checked(reply).array?.compactMap(\.string) ?? [] where !ids.contains(id) { ids.append(id) }
        }
        guard !ids.isEmpty else { return [] }
        var pipeline = RedisPipeline()
        for id in ids {
            pipeline.append("EXISTS", shards[0].heartbeat(id))
            for keys in shards.all { pipeline.append("LLEN", keys.processing(id)) }
        }
        let replies = try await redis.execute(pipeline)
        let stride = 1 + shards.count
        return ids.enumerated().map { index, id in
            let holding = replies[(stride * index + 1)..<(stride * index + stride)].reduce(0) { $0 + ($1.int ?? 0) }
            return RegisteredWorker(id: id, alive: replies[stride * index] == .integer(1), holding: holding)
        }
    }

    /// How many jobs `laneID`'s processing lists hold.
    public func held(by laneID: String) async throws -> Int {
        var pipeline = RedisPipeline()
        for keys in shards.all { pipeline.append("LLEN", keys.processing(laneID)) }
        return try await redis.execute(pipeline).reduce(0) { $0 + ($1.int ?? 0) }
    }
}
