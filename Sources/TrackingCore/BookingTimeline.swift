import Foundation
import RedisClient

/// Everything that happened to one booking, in order, for the operations console. The entries
/// live in the booking's record itself: fields `t0` … `t199` used as a ring, with `tn` counting
/// every entry written. Each entry is one short string (``encode(_:at:_:)``), at most 64 bytes for
/// the usual values, so the record stays in Redis' compact listpack encoding and the timeline
/// costs no key, no expiry and no command of its own where a script writes the record anyway:
/// - the worker's apply script: `webhook` (received: the ingress' receive time, the event id, the
///   job), then `apply` (outcome, event) and `code` (old → new, masked);
/// - the store script: `fetched` (a fresh copy from Booxi);
/// - the API, with a command's push: `command` (action, who asked, reason), by ``noteScript``;
/// - the worker, with the command's final status: `booxi` (call, status, duration) and `result`.
/// A booking without a record (a first event that was refused) has no timeline; an erase leaves
/// the record only its `erased` mark, so the timeline goes with it.
/// Entries hold no personal data beyond what the record holds, and codes only masked.
///
/// Before this layout each booking had a stream, `timeline:<bookingId>`; those are read too and
/// left to expire with their records (docs/scaling.md#the-timeline).
public struct BookingTimeline: Sendable {
    /// Entries kept per booking: the ring's size.
    public static let maxEntries = 200

    public let keys: MappingKeys

    public init(keys: MappingKeys) {
        self.keys = keys
    }

    /// The timeline every role writes, under `redis.keyPrefix`.
    public init(keyPrefix: String, cluster: Bool) {
        self.init(keys: MappingKeys(prefix: keyPrefix, cluster: cluster))
    }

    /// What an entry records, with its one-letter code in the record and its fields in order.
    public enum EntryType: String, Sendable, CaseIterable {
        case webhook, apply, code, fetched, command, booxi, result

        var letter: String {
            switch self {
            case .webhook: "w"
            case .apply: "a"
            case .code: "c"
            case .fetched: "f"
            case .command: "m"
            case .booxi: "b"
            case .result: "r"
            }
        }

        /// The entry's fields, in the order they are stored.
        public var fields: [String] {
            switch self {
            case .webhook: ["event", "eventId", "job"]
            case .apply: ["outcome", "event", "code"]
            case .code: ["old", "new"]
            case .fetched: ["status"]
            case .command: ["action", "by", "reason", "job"]
            case .booxi: ["call", "status", "ms", "job"]
            case .result: ["action", "state", "refusal", "code", "job"]
            }
        }
    }

    public struct Entry: Sendable, Equatable, Codable {
        /// When it happened (ms since 1970): a delivery when the ingress received it, a Booxi
        /// call when it started.
        public var at: Int64
        public var type: String
        public var fields: [String: String]
    }

    // MARK: The entry's form (the Lua below writes the same)

    /// Event types are stored without this prefix, and read back with it.
    static let eventPrefix = "booking."
    /// Job ids are stored by their first characters, which tell jobs apart in a timeline.
    static let jobIDLength = 8

    /// One entry as the record holds it: `<at in base 36>|<letter>|<value>|…`, a `|` inside a value
    /// written as `/`, an event type without `booking.`, a job id by its first 8 characters.
    public static func encode(_ type: EntryType, at: Int64, _ values: [String]) -> String {
        let stored = zip(type.fields, values).map { name, value in
            storedValue(name, value).replacingOccurrences(of: "|", with: "/")
        }
        return ([String(at, radix: 36), type.letter] + stored).joined(separator: "|")
    }

    static func storedValue(_ name: String, _ value: String) -> String {
        switch name {
        case "event": value.hasPrefix(eventPrefix) ? String(value.dropFirst(eventPrefix.count)) : value
        case "job": String(value.prefix(jobIDLength))
        default: value
        }
    }

    /// Reads one stored entry back; nil for anything that is not one.
    public static func decode(_ text: String) -> Entry? {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, let at = Int64(parts[0], radix: 36),
            let type = EntryType.allCases.first(where: { $0.letter == parts[1] })
        else { return nil }
        var fields: [String: String] = [:]
        for (name, value) in zip(type.fields, parts.dropFirst(2)) where !value.isEmpty {
            fields[name] = name == "event" && !value.contains(".") ? eventPrefix + value : value
        }
        return Entry(at: at, type: type.rawValue, fields: fields)
    }

    /// Lua for scripts that write the record: `entry(atMs, letter, ...)` encodes as ``encode(_:at:_:)``
    /// does, and `fold(args, tn, entries)` adds the entries' ring fields and the new `tn` to the
    /// argument list of the script's one `HSET`.
    public static let lua = """
        local function b36(n)
          local digits, text = '0123456789abcdefghijklmnopqrstuvwxyz', ''
          n = math.floor(n)
          repeat
            local d = n % 36
            text = string.sub(digits, d + 1, d + 1) .. text
            n = math.floor(n / 36)
          until n == 0
          return text
        end
        local function entry(at, letter, ...)
          local parts = {b36(tonumber(at)), letter}
          for i = 1, select('#', ...) do
            local value = select(i, ...) or ''
            parts[#parts + 1] = (string.gsub(value, '|', '/'))
          end
          return table.concat(parts, '|')
        end
        local function fold(args, tn, entries)
          local n = tonumber(tn) or 0
          for i, text in ipairs(entries) do
            args[#args + 1] = 't' .. ((n + i - 1) % \(maxEntries))
            args[#args + 1] = text
          end
          args[#args + 1] = 'tn'
          args[#args + 1] = n + #entries
        end
        local function mask(code) if code then return string.sub(code, 1, 4) .. '…' end return '' end
        local function shortEvent(event) return (string.gsub(event, '^\(eventPrefix.replacingOccurrences(of: ".", with: "%."))', '')) end

        """

    /// KEYS: record. ARGV: encoded entries. Adds them to the ring of a booking that has a record
    /// (not an erased one, which keeps no `bookingId`); returns 1 when noted.
    static let noteScript = RedisScript(
        lua + """
            local stored = redis.call('HMGET', KEYS[1], 'tn', 'bookingId')
            if not stored[2] then return 0 end
            local args = {}
            fold(args, stored[1], ARGV)
            redis.call('HSET', KEYS[1], unpack(args))
            return 1
            """)

    /// Appends notes of `bookingID` to `pipeline`: one script for all of them.
    public func append(bookingID: String, _ entries: [String], to pipeline: inout RedisPipeline) {
        guard !entries.isEmpty else { return }
        pipeline.append(Self.noteScript, keys: [keys.booking(bookingID)], arguments: entries)
    }

    /// A code as the timeline shows it: its first four characters.
    public static func mask(_ code: String) -> String { String(code.prefix(4)) + "…" }

    /// The booking's entries, in the order they happened (by ``Entry/at``, then as written), with
    /// those of a stream an earlier version kept.
    public func read(bookingID: String, using redis: RedisClient) async throws -> [Entry] {
        var pipeline = RedisPipeline()
        pipeline.append("HGETALL", keys.booking(bookingID))
        pipeline.append("XRANGE", keys.timeline(bookingID), "-", "+")
        let replies = try await redis.execute(pipeline)
        let fields = try RedisClient.checked(replies[0]).fields
        let written = fields["tn"].flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0
        var ordered: [(entry: Entry, order: Int)] = []
        for (name, value) in fields where name.hasPrefix("t") {
            guard let slot = Int(name.dropFirst()), let entry = Self.decode(String(decoding: value, as: UTF8.self)) else { continue }
            // The write this slot holds: the latest one that landed on it.
            let order = written - 1 - ((written - 1 - slot) % Self.maxEntries + Self.maxEntries) % Self.maxEntries
            ordered.append((entry, order))
        }
        let legacy = (try? RedisClient.checked(replies[1]))?.streamEntries ?? []
        for (index, (id, raw)) in legacy.enumerated() {
            var values = raw.mapValues { String(decoding: $0, as: UTF8.self) }
            guard let type = values.removeValue(forKey: "type") else { continue }
            let at = values.removeValue(forKey: "at").flatMap { Int64($0) } ?? Int64(id.split(separator: "-").first ?? "") ?? 0
            ordered.append((Entry(at: at, type: type, fields: values), index - legacy.count))
        }
        return ordered.sorted { ($0.entry.at, $0.order) < ($1.entry.at, $1.order) }.map(\.entry)
    }
}
