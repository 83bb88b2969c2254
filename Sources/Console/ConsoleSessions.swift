import Crypto
import Foundation
import RedisClient

/// Console sessions in Redis (`console:session:<id>`), so every console replica shares them, and
/// the failed-login counters that throttle guessing per user and per address.
struct ConsoleSessions: Sendable {
    struct Session: Codable, Sendable, Equatable {
        var user: String
        var csrf: String
    }

    let redis: RedisClient
    let prefix: String
    let ttl: Duration
    let failuresPerUser: Int
    let failuresPerAddress: Int
    let window: Duration

    static let cookie = "bxt_console"

    func create(user: String) async throws -> (id: String, session: Session) {
        let id = Self.random()
        let session = Session(user: user, csrf: Self.random())
        _ = try await redis.send("SET", prefix + "session:" + id, Array(try JSONEncoder().encode(session)), "EX", Int(ttl.components.seconds))
        return (id, session)
    }

    func session(_ id: String) async throws -> Session? {
        guard id.count == 43, let bytes = try await redis.get(prefix + "session:" + id) else { return nil }
        return try? JSONDecoder().decode(Session.self, from: Data(bytes))
    }

    func end(_ id: String) async throws {
        _ = try await redis.send("DEL", prefix + "session:" + id)
    }

    /// Seconds to wait when this user or address failed too often within the window, else nil.
    func throttled(user: String, address: String) async throws -> Int? {
        var pipeline = RedisPipeline()
        pipeline.append("GET", failureKey("user", user))
        pipeline.append("GET", failureKey("address", address))
        pipeline.append("PTTL", failureKey("user", user))
        pipeline.append("PTTL", failureKey("address", address))
        let replies = try await redis.execute(pipeline)
        let overUser = (replies[0].int ?? 0) >= failuresPerUser
        let overAddress = (replies[1].int ?? 0) >= failuresPerAddress
        guard overUser || overAddress else { return nil }
        let waits = [overUser ? replies[2].int : nil, overAddress ? replies[3].int : nil].compactMap { $0 }
        return max(1, ((waits.max() ?? 1000) + 999) / 1000)
    }

    func recordFailure(user: String, address: String) async throws {
        var pipeline = RedisPipeline()
        for key in [failureKey("user", user), failureKey("address", address)] {
            pipeline.append("INCR", key)
            pipeline.append("EXPIRE", key, Int(window.components.seconds), "NX")
        }
        _ = try await redis.execute(pipeline)
    }

    func clearFailures(user: String) async throws {
        _ = try await redis.send("DEL", failureKey("user", user))
    }

    private func failureKey(_ kind: String, _ value: String) -> String {
        prefix + "login-failures:" + kind + ":" + String(value.prefix(128))
    }

    /// 32 random bytes, base64url without padding (43 characters).
    static func random() -> String {
        let key = SymmetricKey(size: .bits256)
        return key.withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
