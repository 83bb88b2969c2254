import Foundation

/// A simple lease lock: `SET key token NX PX ttl`, released by compare-and-delete so a holder whose
/// lease expired never deletes someone else's lock.
extension RedisClient {
    /// The token to release the lock with, or nil when someone else holds it.
    public func acquireLock(_ key: String, ttl: Duration) async throws -> String? {
        let token = UUID().uuidString
        return try await send("SET", key, token, "NX", "PX", max(1, Int(ttl.milliseconds))) == .status("OK") ? token : nil
    }

    public func releaseLock(_ key: String, token: String) async throws {
        try await eval(Self.compareAndDelete, keys: [key], arguments: [token])
    }

    /// Extends the lease if `token` still holds it; false when it was lost.
    public func renewLock(_ key: String, token: String, ttl: Duration) async throws -> Bool {
        try await eval(Self.compareAndExtend, keys: [key], arguments: [token, max(1, Int(ttl.milliseconds))]).int == 1
    }

    static let compareAndExtend = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return 0
        """)

    static let compareAndDelete = RedisScript(
        """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)
}
