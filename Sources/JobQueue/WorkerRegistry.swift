import Foundation
import RedisClient

/// Crash recovery (DESIGN §4): every worker refreshes a heartbeat key with a short TTL; a reaper,
/// one at a time under a `SET NX PX` lock with a random token, hands the processing lists of
/// workers whose heartbeat expired back to the waiting lists, counting the interrupted attempt.
public struct WorkerRegistry: Sendable {
    public let redis: RedisClient
    public let keys: QueueKeys

    public init(redis: RedisClient, keys: QueueKeys) {
        self.redis = redis
        self.keys = keys
    }

    public func heartbeat(workerIDs: [String], ttl: Duration) async throws {
        var pipeline = RedisPipeline()
        for workerID in workerIDs {
            pipeline.append("SET", keys.heartbeat(workerID), "1", "PX", Int(ttl.milliseconds))
            pipeline.append("ZADD", keys.workers, Int(JobEnvelope.nowMilliseconds()), workerID)
        }
        for reply in try await redis.execute(pipeline) {
            if let message = reply.errorMessage { throw RedisError.server(message) }
        }
    }

    /// A worker that stops cleanly returns what it still holds and leaves the registry.
    public func deregister(workerID: String) async throws {
        try await recover(workerID, mode: "shutdown", note: "")
    }

    /// A live lane that lost track of what it held (a failed round trip) returns it to the
    /// waiting lists, without counting an attempt and staying registered.
    @discardableResult
    public func returnHeld(workerID: String) async throws -> Int {
        try await recover(workerID, mode: "live", note: "").int ?? 0
    }

    @discardableResult
    private func recover(_ workerID: String, mode: String, note: String) async throws -> RedisReply {
        try await redis.eval(
            Self.recover,
            keys: [keys.processing(workerID), keys.webhooks, keys.commands, keys.workers, keys.heartbeat(workerID)],
            arguments: [workerID, mode, note])
    }

    /// If this process wins the reaper lock, recovers the jobs of every dead worker; returns how
    /// many jobs went back to the waiting lists (nil when another reaper holds the lock).
    public func reap(lockTTL: Duration) async throws -> Int? {
        guard let token = try await redis.acquireLock(keys.reaperLock, ttl: lockTTL) else { return nil }
        var recovered = 0
        do {
            let workers = try await redis.send("ZRANGE", keys.workers, 0, -1).array?.compactMap(\.string) ?? []
            for workerID in workers {
                recovered += try await recover(workerID, mode: "dead", note: "worker \(workerID) stopped without finishing (crash)").int ?? 0
            }
        } catch {
            try? await redis.releaseLock(keys.reaperLock, token: token)
            throw error
        }
        try await redis.releaseLock(keys.reaperLock, token: token)
        return recovered
    }

    /// Workers registered, with whether their heartbeat is alive.
    public func workers() async throws -> [(id: String, alive: Bool, holding: Int)] {
        let ids = try await redis.send("ZRANGE", keys.workers, 0, -1).array?.compactMap(\.string) ?? []
        var result: [(String, Bool, Int)] = []
        for id in ids {
            var pipeline = RedisPipeline()
            pipeline.append("EXISTS", keys.heartbeat(id))
            pipeline.append("LLEN", keys.processing(id))
            let replies = try await redis.execute(pipeline)
            result.append((id, replies[0] == .integer(1), replies[1].int ?? 0))
        }
        return result
    }

    /// KEYS: processing, webhooks, commands, workers, heartbeat. ARGV: workerId, mode, note.
    /// Modes: `dead` (only if the heartbeat expired; counts the attempt; deregisters), `shutdown`
    /// (deregisters), `live` (keeps the registration). Returns the number of jobs handed back.
    static let recover = RedisScript(
        """
        if ARGV[2] == 'dead' and redis.call('EXISTS', KEYS[5]) == 1 then return 0 end
        local moved = 0
        while true do
          local job = redis.call('RPOP', KEYS[1])
          if not job then break end
          local ok, decoded = pcall(cjson.decode, job)
          local target = KEYS[3]
          if ok and type(decoded) == 'table' then
            if decoded['kind'] == 'webhook' then target = KEYS[2] end
            if ARGV[2] == 'dead' then
              decoded['attempt'] = (tonumber(decoded['attempt']) or 0) + 1
              decoded['lastError'] = ARGV[3]
              job = cjson.encode(decoded)
            end
          end
          redis.call('RPUSH', target, job)
          moved = moved + 1
        end
        if ARGV[2] ~= 'live' then
          redis.call('ZREM', KEYS[4], ARGV[1])
          redis.call('DEL', KEYS[5])
        end
        return moved
        """)
}
