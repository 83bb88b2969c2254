import Foundation
import JobQueue
import RedisClient

/// Reads and writes the tracking mappings. Every change is one Lua script, so concurrent workers,
/// duplicates and reordered events cannot leave a half-applied state.
public struct MappingStore: Sendable {
    let redis: RedisClient
    public let keys: MappingKeys
    /// How long records live after the appointment ended (or after the last event, while the end
    /// is not known yet).
    public let retentionSeconds: Int

    public init(redis: RedisClient, keys: MappingKeys, retentionSeconds: Int) {
        self.redis = redis
        self.keys = keys
        self.retentionSeconds = retentionSeconds
    }

    public enum ApplyResult: String, Sendable {
        case applied, stale, exists, retired, cancelled, unchanged
        /// The booking's personal data was erased: nothing brings it back.
        case erased
        /// The event's tracking code belongs to another live booking (its record names the code):
        /// the code is not moved, and the event is dead-lettered.
        case codeOwnedByAnother = "conflict"
    }

    /// How far past its receipt an event's own time may lie (Booxi's clock against ours). A later
    /// time is clamped to this, so a forged or skewed `modifiedOn` cannot outrank every later event.
    public static let maxFutureSkewMilliseconds: Int64 = 300_000

    /// The version an event is ordered by: its own time, at most ``maxFutureSkewMilliseconds`` past
    /// `receivedAt`; without one, `receivedAt`.
    public static func version(eventTime: Int64?, receivedAt: Int64) -> Int64 {
        let (ceiling, overflow) = receivedAt.addingReportingOverflow(maxFutureSkewMilliseconds)
        guard let eventTime else { return receivedAt }
        return overflow ? eventTime : min(eventTime, ceiling)
    }

    /// Appends the apply script for `event` to `pipeline` (the worker applies a batch in one round
    /// trip). `receivedAt` orders events that carry no event time.
    public func appendApply(_ event: WebhookEvent, receivedAt: Int64, to pipeline: inout RedisPipeline) {
        let version = Self.version(eventTime: event.eventTime, receivedAt: receivedAt)
        let now = JobEnvelope.nowMilliseconds()
        pipeline.append(
            Self.apply,
            keys: [keys.booking(event.bookingID), keys.code(event.trackingCode), keys.retired(event.bookingID)] + fetchKeys
                + [keys.timeline(event.bookingID)],
            arguments: [
                event.eventType.rawValue, event.bookingID, event.trackingCode.value, event.status, Int(version),
                event.eventTime == nil ? "0" : "1", event.firstName ?? "", event.lastName ?? "", retentionSeconds,
                keys.codePrefix, Int(Date().timeIntervalSince1970), event.details?.json ?? [],
                Int(now), Self.unixSeconds(event.details?.endsAt),
                keys.bookingPrefix,
            ])
    }

    /// The fetch queues (visitor, prefetch, refresh): a fresh copy leaves them, an event without
    /// the booking's details enters the prefetch queue.
    var fetchKeys: [String] { BookingFetches.classes.map(keys.fetches) }

    /// Applies a batch of events in one round trip, then rings the booking fetchers once for the
    /// prefetches the applies asked for. One reply per event: its result, or the error Redis
    /// answered for that script alone (e.g. OOM), so one failure does not hide the others.
    public func apply(
        _ batch: [(event: WebhookEvent, receivedAt: Int64)], ringing fetches: BookingFetches
    ) async throws -> [Result<ApplyResult, RedisError>] {
        guard !batch.isEmpty else { return [] }
        var pipeline = RedisPipeline()
        for (event, receivedAt) in batch { appendApply(event, receivedAt: receivedAt, to: &pipeline) }
        fetches.appendRing(to: &pipeline)
        return try await redis.execute(pipeline).prefix(batch.count).map { reply in
            if let message = reply.errorMessage { return .failure(.server(message)) }
            return .success(ApplyResult(rawValue: reply.string ?? "") ?? .unchanged)
        }
    }

    public func apply(_ event: WebhookEvent, receivedAt: Int64) async throws -> ApplyResult {
        var pipeline = RedisPipeline()
        appendApply(event, receivedAt: receivedAt, to: &pipeline)
        let reply = try RedisClient.checked(try await redis.execute(pipeline)[0])
        return ApplyResult(rawValue: reply.string ?? "") ?? .unchanged
    }

    /// The booking a code resolves to, in one round trip.
    public func resolve(_ code: TrackingCode) async throws -> BookingRecord? {
        let reply = try await redis.eval(Self.lookup, keys: [keys.code(code)], arguments: [keys.bookingPrefix])
        return Self.record(from: reply)
    }

    public func record(bookingID: String) async throws -> BookingRecord? {
        let fields = try await redis.hgetall(keys.booking(bookingID))
        return fields.isEmpty ? nil : BookingRecord(fields: fields)
    }

    /// Stores a fresh copy of the booking from Booxi; `status` (from Booxi) replaces ours unless ours
    /// says cancelled (news Booxi's copy may not have yet), and the record now expires
    /// `retentionSeconds` after `endsAt`. The booking leaves every fetch queue.
    /// With `ifVersion`, a copy fetched before the record's last event is not stored: it may predate
    /// the event's change (returns false; the event asked for a fetch of its own).
    @discardableResult
    public func storeBooking(
        bookingID: String, json: [UInt8], status: String?, endsAt: Date?, ifVersion: Int64? = nil, cancelledBy: String? = nil
    ) async throws -> Bool {
        let endsAtSeconds = Self.unixSeconds(endsAt)
        return try await redis.eval(
            Self.store, keys: [keys.booking(bookingID), keys.retired(bookingID)] + fetchKeys + [keys.timeline(bookingID)],
            arguments: [
                json, Int(JobEnvelope.nowMilliseconds()), status ?? "", endsAtSeconds, retentionSeconds, keys.codePrefix,
                Int(Date().timeIntervalSince1970), bookingID, ifVersion.map { String($0) } ?? "", cancelledBy ?? "",
            ]
        ).int == 1
    }

    /// A booking's end in Unix seconds, 0 when unknown: a start and a duration from a payload can
    /// add up to a date no `Int` holds, which is then as good as unknown, not a trap.
    static func unixSeconds(_ date: Date?) -> Int {
        date.flatMap { Int(exactly: $0.timeIntervalSince1970.rounded(.down)) } ?? 0
    }

    static func record(from reply: RedisReply) -> BookingRecord? {
        let fields = reply.fields
        return fields.isEmpty ? nil : BookingRecord(fields: fields)
    }

    /// KEYS: record, new code key, retired set, the fetch queues, the timeline. ARGV: event type, bookingId, code,
    /// status, version, hasEventTime, firstName, lastName, retentionSeconds, codePrefix,
    /// nowSeconds, details JSON (or empty), nowMs, details' endsAt (s, or 0), booking key prefix.
    /// Every event applied counts one in `changes` (a calendar file's SEQUENCE), as does every copy
    /// of the booking that differs from the last.
    /// Rules: an older event changes nothing; `confirmed` only inserts; a retired code never comes
    /// back; without an event time a cancellation is final; the same state twice changes nothing;
    /// a code that another booking's record still names is not taken over (`conflict`).
    /// Details carried by the delivery become the cached copy; without them the copy is out of date
    /// and, unless the event is a cancellation (which changes only the status), a prefetch is asked
    /// for in the same step, so no crash can separate the two.
    static let apply = RedisScript(
        BookingFetches.requestFunction + BookingTimeline.luaNote + """
            local rec, newCodeKey, retired, timeline = KEYS[1], KEYS[2], KEYS[3], KEYS[7]
            local eventType, bookingId, code, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
            local version = tonumber(ARGV[5])
            local function done(outcome)
              note(timeline, 'type', 'apply', 'outcome', outcome, 'event', eventType, 'code', mask(code))
              redis.call('EXPIRE', timeline, ARGV[9], 'NX')
              return outcome
            end
            local function ownedByAnother()
              local owner = redis.call('GET', newCodeKey)
              return owner and owner ~= bookingId and redis.call('HGET', ARGV[15] .. owner, 'code') == code
            end
            if redis.call('SISMEMBER', retired, code) == 1 then return done('retired') end
            if redis.call('EXISTS', rec) == 0 then
              if ownedByAnother() then return done('conflict') end
            else
              local stored = redis.call('HMGET', rec, 'version', 'status', 'code', 'erased')
              -- An erased booking keeps only this mark (no personal data): nothing brings it back.
              if stored[4] then return 'erased' end
              if version < (tonumber(stored[1]) or 0) then return done('stale') end
              if eventType == 'booking.confirmed' then return done('exists') end
              if stored[2] == 'Cancelled' and eventType ~= 'booking.cancelled' and ARGV[6] ~= '1' then return done('cancelled') end
              if stored[3] == code and stored[2] == status and tonumber(stored[1]) == version then return done('unchanged') end
              -- Only a code new to this booking can belong to another one: no extra read otherwise.
              if stored[3] ~= code and ownedByAnother() then return done('conflict') end
              if stored[3] and stored[3] ~= code then
                local oldKey = ARGV[10] .. stored[3]
                if redis.call('GET', oldKey) == bookingId then redis.call('DEL', oldKey) end
                redis.call('SADD', retired, stored[3])
                note(timeline, 'type', 'code', 'old', mask(stored[3]), 'new', mask(code))
              end
            end
            redis.call('SET', newCodeKey, bookingId)
            redis.call('HSET', rec, 'bookingId', bookingId, 'code', code, 'status', status, 'version', version, 'event', eventType)
            redis.call('HINCRBY', rec, 'changes', 1)
            if ARGV[7] ~= '' then redis.call('HSET', rec, 'firstName', ARGV[7]) end
            if ARGV[8] ~= '' then redis.call('HSET', rec, 'lastName', ARGV[8]) end
            if ARGV[12] ~= '' then
              redis.call('HSET', rec, 'booking', ARGV[12], 'fetchedAt', ARGV[13])
              if tonumber(ARGV[14]) > 0 then redis.call('HSET', rec, 'endsAt', ARGV[14]) end
              for index = 4, 6 do redis.call('ZREM', KEYS[index], bookingId) end
            else
              redis.call('HDEL', rec, 'fetchedAt', 'fetchingUntil')
              if eventType ~= 'booking.cancelled' then requestFetch({KEYS[4], KEYS[5], KEYS[6]}, rec, bookingId, 2, ARGV[13], true) end
            end
            local endsAt = tonumber(redis.call('HGET', rec, 'endsAt') or '0')
            local expireAt = tonumber(ARGV[11]) + tonumber(ARGV[9])
            if endsAt > 0 then expireAt = math.max(endsAt + tonumber(ARGV[9]), tonumber(ARGV[11]) + 3600) end
            redis.call('EXPIREAT', rec, expireAt)
            redis.call('EXPIREAT', newCodeKey, expireAt)
            redis.call('EXPIREAT', retired, expireAt)
            note(timeline, 'type', 'apply', 'outcome', 'applied', 'event', eventType, 'code', mask(code))
            redis.call('EXPIREAT', timeline, expireAt)
            return 'applied'
            """)

    /// KEYS: code key. ARGV: booking key prefix. Returns the record's fields, or an empty array.
    static let lookup = RedisScript(
        """
        local bookingId = redis.call('GET', KEYS[1])
        if not bookingId then return {} end
        return redis.call('HGETALL', ARGV[1] .. bookingId)
        """)

    /// KEYS: record, retired set, the fetch queues. ARGV: json, fetchedAt(ms), status, endsAt(s),
    /// retention(s), codePrefix, now(s), bookingId, the version the copy was fetched at (or empty).
    static let store = RedisScript(
        """
        if ARGV[9] ~= '' and redis.call('HGET', KEYS[1], 'version') ~= ARGV[9] then return 0 end
        for index = 3, 5 do redis.call('ZREM', KEYS[index], ARGV[8]) end
        if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'erased') == 1 then return 0 end
        if redis.call('HGET', KEYS[1], 'booking') ~= ARGV[1] then redis.call('HINCRBY', KEYS[1], 'changes', 1) end
        redis.call('HSET', KEYS[1], 'booking', ARGV[1], 'fetchedAt', ARGV[2])
        redis.call('HDEL', KEYS[1], 'fetchingUntil')
        if ARGV[3] ~= '' and redis.call('HGET', KEYS[1], 'status') ~= 'Cancelled' then redis.call('HSET', KEYS[1], 'status', ARGV[3]) end
        if ARGV[10] ~= '' then redis.call('HSET', KEYS[1], 'cancelledBy', ARGV[10]) end
        local endsAt = tonumber(ARGV[4])
        if endsAt > 0 then
          redis.call('HSET', KEYS[1], 'endsAt', endsAt)
          local expireAt = math.max(endsAt + tonumber(ARGV[5]), tonumber(ARGV[7]) + 3600)
          redis.call('EXPIREAT', KEYS[1], expireAt)
          redis.call('EXPIREAT', KEYS[2], expireAt)
          redis.call('EXPIREAT', KEYS[6], expireAt)
          local code = redis.call('HGET', KEYS[1], 'code')
          if code then redis.call('EXPIREAT', ARGV[6] .. code, expireAt) end
        end
        return 1
        """)
}
