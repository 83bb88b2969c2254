import Foundation
import RedisClient

/// Every console and admin action that changes or reveals something (replay, purge, retry now,
/// reveal, erase): who, when, what. A capped stream (`audit`, about 10,000 entries).
public struct AuditLog: Sendable {
    public static let maxEntries = 10_000

    let redis: RedisClient
    let key: String

    public init(redis: RedisClient, keyPrefix: String) {
        self.redis = redis
        key = keyPrefix + "audit"
    }

    public struct Entry: Sendable, Equatable, Codable {
        public var id: String
        public var user: String
        public var action: String
        public var target: String
        public var detail: String
        /// Milliseconds since 1970.
        public var at: Int64 { Int64(id.split(separator: "-").first ?? "") ?? 0 }

        private enum CodingKeys: String, CodingKey { case id, user, action, target, detail, at }

        public init(id: String, user: String, action: String, target: String, detail: String) {
            self.id = id
            self.user = user
            self.action = action
            self.target = target
            self.detail = detail
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                id: try container.decode(String.self, forKey: .id), user: try container.decode(String.self, forKey: .user),
                action: try container.decode(String.self, forKey: .action), target: try container.decode(String.self, forKey: .target),
                detail: try container.decode(String.self, forKey: .detail))
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(user, forKey: .user)
            try container.encode(action, forKey: .action)
            try container.encode(target, forKey: .target)
            try container.encode(detail, forKey: .detail)
            try container.encode(at, forKey: .at)
        }
    }

    public func record(user: String, action: String, target: String, detail: String = "") async throws {
        _ = try await redis.send(
            "XADD", key, "MAXLEN", "~", Self.maxEntries, "*", "user", user, "action", action, "target", target, "detail", detail)
    }

    /// The newest entries first.
    public func recent(limit: Int = 200) async throws -> [Entry] {
        let reply = try await redis.send("XREVRANGE", key, "+", "-", "COUNT", limit)
        return reply.streamEntries.map { id, raw in
            let fields = raw.mapValues { String(decoding: $0, as: UTF8.self) }
            return Entry(id: id, user: fields["user"] ?? "", action: fields["action"] ?? "", target: fields["target"] ?? "", detail: fields["detail"] ?? "")
        }
    }
}
