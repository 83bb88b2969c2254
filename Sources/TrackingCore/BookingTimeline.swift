import Foundation
import RedisClient

/// Everything that happened to one booking, in order, for the operations console: a Redis stream
/// per booking (`timeline:<bookingId>`, in the mappings' `{m}` slot), capped with `XADD MAXLEN ~`
/// and expiring with the booking's record. Each writer adds its entry to a pipeline or script it
/// runs anyway, so the timeline costs no round trip on a hot path:
/// - the ingress, with the push: `webhook` (event, event id);
/// - the worker's apply script: `apply` (outcome, event) and `code` (old → new, masked);
/// - the API, with the command's push: `command` (action, who asked, reason);
/// - the worker, with the command's final status: `booxi` (call, status, duration) and `result`.
/// Entries hold no personal data beyond what the record holds, and codes only masked.
public struct BookingTimeline: Sendable {
    /// Entries kept per booking (approximately: `MAXLEN ~` trims whole stream nodes).
    public static let maxEntries = 200

    public let keys: MappingKeys
    /// How long a stream lives before the worker's apply aligns it with the record's expiry.
    public let retentionSeconds: Int

    public init(keys: MappingKeys, retentionSeconds: Int) {
        self.keys = keys
        self.retentionSeconds = retentionSeconds
    }

    /// The timeline every role writes: under `redis.keyPrefix`, kept `worker.recordRetentionHours`.
    public init(keyPrefix: String, retentionHours: Int) {
        self.init(keys: MappingKeys(prefix: keyPrefix), retentionSeconds: retentionHours * 3600)
    }

    public struct Entry: Sendable, Equatable, Codable {
        /// The stream id: milliseconds since 1970, then a sequence.
        public var id: String
        public var type: String
        public var fields: [String: String]

        /// When it happened: the entry's own `at` (a Booxi call noted when its command finished),
        /// else when it was written.
        public var at: Int64 { fields["at"].flatMap { Int64($0) } ?? Int64(id.split(separator: "-").first ?? "") ?? 0 }
    }

    /// Appends one entry (and a first expiry, which later writes leave alone) to `pipeline`.
    public func append(bookingID: String, type: String, _ fields: KeyValuePairs<String, String>, to pipeline: inout RedisPipeline) {
        let key = keys.timeline(bookingID)
        var arguments: [any RedisArgumentConvertible] = [key, "MAXLEN", "~", Self.maxEntries, "*", "type", type]
        for (name, value) in fields { arguments += [name, value] }
        pipeline.append(RedisCommand("XADD", arguments))
        pipeline.append("EXPIRE", key, retentionSeconds, "NX")
    }

    /// The Lua the apply script notes with: `note(key, field, value, ...)`.
    public static let luaNote = """
        local function note(key, ...)
          redis.call('XADD', key, 'MAXLEN', '~', \(maxEntries), '*', ...)
        end
        local function mask(code) if code then return string.sub(code, 1, 4) .. '…' end return '' end

        """

    /// A code as the timeline shows it: its first four characters.
    public static func mask(_ code: String) -> String { String(code.prefix(4)) + "…" }

    /// The booking's entries, in the order they happened (by ``Entry/at``; ties keep the stream's order).
    public func read(bookingID: String, using redis: RedisClient) async throws -> [Entry] {
        let reply = try await redis.send("XRANGE", keys.timeline(bookingID), "-", "+")
        return reply.streamEntries.compactMap { id, raw in
            var fields = raw.mapValues { String(decoding: $0, as: UTF8.self) }
            guard let type = fields.removeValue(forKey: "type") else { return nil }
            return Entry(id: id, type: type, fields: fields)
        }.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }
}
