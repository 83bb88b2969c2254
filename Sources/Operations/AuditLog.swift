import Foundation
import RedisClient

/// Every console and admin action that changes or reveals something (replay, purge, retry now,
/// reveal, erase): who, when, what, and how it ended. A capped stream (`audit`, about 10,000
/// entries) written only by ``OperatorActions``.
///
/// An action writes two stream entries: one before it acts (`outcome` `started`) and one after
/// (`done` or `failed`, with `started` holding the first entry's id). Written first, the audit
/// survives a process that dies mid-action: the action shows as `started` and never completed.
/// Both entries carry `user`, `action`, `target` and `detail`, so a reader of the raw stream that
/// knows only those fields still reads each one whole.
public struct AuditLog: Sendable {
    public static let maxEntries = 10_000

    let redis: RedisClient
    let key: String

    public init(redis: RedisClient, keyPrefix: String) {
        self.redis = redis
        key = keyPrefix + "audit"
    }

    public enum Outcome: String, Sendable, Codable {
        case started, done, failed
    }

    /// One action as the audit page lists it: its start, completed by its outcome when there is one.
    public struct Entry: Sendable, Equatable, Codable {
        /// The stream id of the entry written before the action.
        public var id: String
        public var user: String
        public var action: String
        public var target: String
        /// The completion's detail (counts, or why it failed), else the start's.
        public var detail: String
        /// `started` while the action runs, or when its process died before completing it.
        public var outcome: Outcome
        /// Milliseconds since 1970 when it was completed.
        public var completedAt: Int64?
        /// Milliseconds since 1970 when it started.
        public var at: Int64 { Self.milliseconds(id) }

        private enum CodingKeys: String, CodingKey { case id, user, action, target, detail, outcome, completedAt, at }

        public init(id: String, user: String, action: String, target: String, detail: String, outcome: Outcome, completedAt: Int64? = nil) {
            self.id = id
            self.user = user
            self.action = action
            self.target = target
            self.detail = detail
            self.outcome = outcome
            self.completedAt = completedAt
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                id: try container.decode(String.self, forKey: .id), user: try container.decode(String.self, forKey: .user),
                action: try container.decode(String.self, forKey: .action), target: try container.decode(String.self, forKey: .target),
                detail: try container.decode(String.self, forKey: .detail), outcome: try container.decode(Outcome.self, forKey: .outcome),
                completedAt: try container.decodeIfPresent(Int64.self, forKey: .completedAt))
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(user, forKey: .user)
            try container.encode(action, forKey: .action)
            try container.encode(target, forKey: .target)
            try container.encode(detail, forKey: .detail)
            try container.encode(outcome, forKey: .outcome)
            try container.encodeIfPresent(completedAt, forKey: .completedAt)
            try container.encode(at, forKey: .at)
        }

        static func milliseconds(_ streamID: String) -> Int64 { Int64(streamID.split(separator: "-").first ?? "") ?? 0 }
    }

    /// An action whose start is written; ``complete(_:_:detail:)`` writes how it ended.
    struct Started: Sendable {
        let id: String
        let user: String
        let action: String
        let target: String
    }

    func start(user: String, action: String, target: String, detail: String) async throws -> Started {
        let id = try await append(["user": user, "action": action, "target": target, "detail": detail, "outcome": Outcome.started.rawValue])
        return Started(id: id, user: user, action: action, target: target)
    }

    func complete(_ started: Started, _ outcome: Outcome, detail: String) async throws {
        _ = try await append([
            "user": started.user, "action": started.action, "target": started.target, "detail": detail, "outcome": outcome.rawValue,
            "started": started.id,
        ])
    }

    private func append(_ fields: KeyValuePairs<String, String>) async throws -> String {
        let reply = try await redis.send(
            RedisCommand("XADD", [key, "MAXLEN", "~", String(Self.maxEntries), "*"] + fields.flatMap { [$0.key, $0.value] }))
        return reply.string ?? ""
    }

    /// The newest actions first, each start merged with its completion. Entries written before
    /// actions were audited in two steps have no `outcome`: they were written after the action, so
    /// they read as `done`.
    public func recent(limit: Int = 200) async throws -> [Entry] {
        // Twice the limit: each action is two entries. A completion whose start is older than
        // what was read is left out with its start.
        let reply = try await redis.send("XREVRANGE", key, "+", "-", "COUNT", limit * 2)
        var completions: [String: (id: String, fields: [String: String])] = [:]
        var entries: [Entry] = []
        for (id, raw) in reply.streamEntries {
            let fields = raw.mapValues { String(decoding: $0, as: UTF8.self) }
            if let started = fields["started"] {
                completions[started] = (id, fields)
                continue
            }
            var entry = Entry(
                id: id, user: fields["user"] ?? "", action: fields["action"] ?? "", target: fields["target"] ?? "", detail: fields["detail"] ?? "",
                outcome: fields["outcome"].flatMap(Outcome.init(rawValue:)) ?? .done)
            // Newest first: a completion is read before its start.
            if let completion = completions.removeValue(forKey: id) {
                entry.outcome = completion.fields["outcome"].flatMap(Outcome.init(rawValue:)) ?? .done
                entry.detail = completion.fields["detail"] ?? entry.detail
                entry.completedAt = Entry.milliseconds(completion.id)
            }
            entries.append(entry)
        }
        return Array(entries.prefix(limit))
    }
}
