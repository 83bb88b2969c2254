import Crypto
import Foundation
import RedisClient

/// Console sessions in Redis (`console:session:<id>`), so every console replica shares them. A
/// session ends at the first of two deadlines: `ttl` after login (absolute, kept in the session),
/// and `idle` after the operator's last request (the key's expiry, pushed back on each use).
struct ConsoleSessions: Sendable {
    struct Session: Codable, Sendable, Equatable {
        var user: String
        var csrf: String
        /// Milliseconds since 1970: the absolute end, however busy the session is.
        var expiresAt: Int64
    }

    let redis: RedisClient
    let prefix: String
    let ttl: Duration
    let idle: Duration

    static let cookie = "bxt_console"

    func create(user: String) async throws -> (id: String, session: Session) {
        let id = Self.random()
        let session = Session(user: user, csrf: Self.random(), expiresAt: Self.now() + ttl.milliseconds)
        _ = try await redis.send("SET", key(id), Array(try JSONEncoder().encode(session)), "PX", Int(min(idle, ttl).milliseconds))
        return (id, session)
    }

    /// The live session with this id. `touch` restarts its idle time: an operator's request does,
    /// the overview's automatic refresh does not (or an open tab would never go idle).
    func session(_ id: String, touch: Bool = true) async throws -> Session? {
        guard id.count == 43 else { return nil }
        let reply = touch ? try await redis.send("GETEX", key(id), "PX", Int(idle.milliseconds)) : try await redis.send("GET", key(id))
        guard let bytes = reply.bytes, let session = try? JSONDecoder().decode(Session.self, from: Data(bytes)) else { return nil }
        guard Self.now() < session.expiresAt else {
            try await end(id)
            return nil
        }
        return session
    }

    func end(_ id: String) async throws {
        _ = try await redis.send("DEL", key(id))
    }

    private func key(_ id: String) -> String { prefix + "session:" + id }

    private static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// 32 random bytes, base64url without padding (43 characters).
    static func random() -> String {
        let key = SymmetricKey(size: .bits256)
        return key.withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
