import BooxiModels
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
        /// Per booking (Redis Cluster): the code's key names another booking whose record neither
        /// names the code nor gave it up, as while that booking's own change of code is under way.
        /// Nothing was written; the event is retried until that booking's change settles it.
        case codeClaimUnderWay = "pending"
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

    /// One webhook to apply: the event, when the ingress received it (which orders events that carry
    /// no time of their own, and dates the timeline's `webhook` entry), its event id and its job.
    public struct Delivery: Sendable {
        public var event: WebhookEvent
        public var receivedAt: Int64
        public var eventID: String?
        public var jobID: String?

        public init(_ event: WebhookEvent, receivedAt: Int64, eventID: String? = nil, jobID: String? = nil) {
            self.event = event
            self.receivedAt = receivedAt
            self.eventID = eventID
            self.jobID = jobID
        }
    }

    /// Appends the apply script for `delivery` to `pipeline`, for tools that batch their own
    /// writes: one slot only (per booking, an apply takes steps: ``apply(_:)``).
    public func appendApply(_ delivery: Delivery, to pipeline: inout RedisPipeline) {
        precondition(keys.codesShareTheRecordsSlot, "per booking, an apply takes more than one round trip: use apply(_:)")
        appendApply(delivery, nowSeconds: Int(Date().timeIntervalSince1970), to: &pipeline)
    }

    /// Appends the apply script for `delivery` to `pipeline` (the worker applies a batch in one
    /// round trip). `claim` is where a per-booking layout's claim of the code left it (``Claim``);
    /// nil in one slot, where the script reads and writes the code key itself.
    func appendApply(_ delivery: Delivery, nowSeconds: Int, claim: Claim? = nil, to pipeline: inout RedisPipeline) {
        let event = delivery.event
        let version = Self.version(eventTime: event.eventTime, receivedAt: delivery.receivedAt)
        let now = JobEnvelope.nowMilliseconds()
        let sharedSlot = claim == nil
        pipeline.append(
            Self.apply,
            keys: sharedSlot
                ? [keys.booking(event.bookingID), keys.code(event.trackingCode), keys.retired(event.bookingID)] + fetchKeys + [keys.fetchBell]
                : [keys.booking(event.bookingID), keys.retired(event.bookingID)],
            arguments: [
                event.eventType.rawValue, event.bookingID, event.trackingCode.value, event.status, Int(version),
                event.eventTime == nil ? "0" : "1", event.firstName ?? "", event.lastName ?? "", retentionSeconds,
                keys.codePrefix, nowSeconds, event.details == nil ? "" : "1",
                Int(now), Self.unixSeconds(event.details?.endsAt),
                keys.bookingPrefix, Int(delivery.receivedAt), delivery.eventID ?? "", delivery.jobID ?? "",
                claim.map { $0.argument } ?? "",
            ] + (event.details.map { CachedCopy.fields(of: $0.booking) } ?? []))
    }

    /// When a record (and its code key) expires: `retentionSeconds` after the booking's end, at
    /// least an hour from now; without a known end, `retentionSeconds` from now. The apply script
    /// computes the same from the same `nowSeconds`.
    func expireAt(endsAt: Int, nowSeconds: Int) -> Int {
        endsAt > 0 ? max(endsAt + retentionSeconds, nowSeconds + 3600) : nowSeconds + retentionSeconds
    }

    /// The fetch queues (visitor, prefetch, refresh): a fresh copy leaves them, an event without
    /// the booking's details enters the prefetch queue.
    var fetchKeys: [String] { BookingFetches.classes.map(keys.fetches) }

    /// Applies a batch of events in one round trip. One reply per event: its result, or the error
    /// Redis answered for that script alone (e.g. OOM), so one failure does not hide the others.
    /// An apply that asks for a prefetch rings the fetchers' bell itself.
    /// With the per-booking layout (Redis Cluster) a batch takes up to four round trips instead:
    /// ``applyPerBooking(_:nowSeconds:)``.
    public func apply(_ batch: [Delivery]) async throws -> [Result<ApplyResult, RedisError>] {
        guard !batch.isEmpty else { return [] }
        let nowSeconds = Int(Date().timeIntervalSince1970)
        guard keys.codesShareTheRecordsSlot else { return try await applyPerBooking(batch, nowSeconds: nowSeconds) }
        var pipeline = RedisPipeline()
        for delivery in batch { appendApply(delivery, nowSeconds: nowSeconds, to: &pipeline) }
        return try await redis.execute(pipeline).map { reply in
            if let message = reply.errorMessage { return .failure(.server(message)) }
            return .success(ApplyResult(rawValue: reply.string ?? "") ?? .unchanged)
        }
    }

    /// ``apply(_:)`` for events without an event id or job (tests, tools).
    public func apply(_ batch: [(event: WebhookEvent, receivedAt: Int64)]) async throws -> [Result<ApplyResult, RedisError>] {
        try await apply(batch.map { Delivery($0.event, receivedAt: $0.receivedAt) })
    }

    public func apply(_ event: WebhookEvent, receivedAt: Int64) async throws -> ApplyResult {
        try await apply([Delivery(event, receivedAt: receivedAt)])[0].get()
    }

    /// The booking a code resolves to: in one slot, in one round trip; per booking, in two
    /// (``resolvePerBooking(_:)``).
    public func resolve(_ code: TrackingCode) async throws -> BookingRecord? {
        guard keys.codesShareTheRecordsSlot else { return try await resolvePerBooking(code) }
        let reply = try await redis.eval(Self.lookup, keys: [keys.code(code)], arguments: [keys.bookingPrefix])
        return Self.record(from: reply)
    }

    public func record(bookingID: String) async throws -> BookingRecord? {
        let fields = try await redis.hgetall(keys.booking(bookingID))
        return fields.isEmpty ? nil : BookingRecord(fields: fields)
    }

    /// Stores a fresh copy of the booking from Booxi (what ``CachedCopy`` keeps of it); `status`
    /// (from Booxi) replaces ours unless ours says cancelled (news Booxi's copy may not have yet),
    /// and the record now expires `retentionSeconds` after `endsAt`. The booking leaves every fetch
    /// queue. With `ifVersion`, a copy fetched before the record's last event is not stored: it may
    /// predate the event's change (returns false; the event asked for a fetch of its own).
    /// `notes` (``BookingTimeline`` entries) go to the timeline after `fetched`, in the same write:
    /// a command's Booxi calls and result, stored with the copy its call returned.
    @discardableResult
    public func storeBooking(
        bookingID: String, booking: Booking, status: String?, endsAt: Date?, ifVersion: Int64? = nil, cancelledBy: String? = nil,
        notes: [String] = []
    ) async throws -> Bool {
        let endsAtSeconds = Self.unixSeconds(endsAt)
        let sharedSlot = keys.codesShareTheRecordsSlot
        let reply = try await redis.eval(
            Self.store, keys: [keys.booking(bookingID), keys.retired(bookingID)] + (sharedSlot ? fetchKeys : []),
            arguments: [
                sharedSlot ? "" : "1", Int(JobEnvelope.nowMilliseconds()), status ?? "", endsAtSeconds, retentionSeconds, keys.codePrefix,
                Int(Date().timeIntervalSince1970), bookingID, ifVersion.map { String($0) } ?? "", cancelledBy ?? "", notes.count,
            ] + notes + CachedCopy.fields(of: booking))
        guard !sharedSlot else { return reply.int == 1 }
        return try await finishStore(bookingID: bookingID, reply: reply)
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

    /// KEYS: record, new code key, retired set, the fetch queues and the fetchers' bell; per
    /// booking only the record and the retired set. ARGV: event type, bookingId, code, status, version, hasEventTime, firstName, lastName,
    /// retentionSeconds, codePrefix, nowSeconds, `1` when the delivery carries the booking's details
    /// (else empty), nowMs, details' endsAt (s, or 0), booking key prefix, receivedAt (ms), event
    /// id, job id, the claim (empty in one slot; per booking `1` when the code key named this
    /// booking already, `2` when the claim made it name it, `0` when another booking holds the
    /// code), then the details as the cached copy's
    /// fields (``CachedCopy``): name, value, ….
    /// In one slot it returns the outcome. Per booking it touches only the booking's own keys and
    /// returns `{outcome, 1 when the record names the code, the code key's expiry to set (or 0),
    /// a code the booking just gave up (or empty), fetch (0; 1 ask for a prefetch; 2 leave the
    /// queues)}`: the steps that ``MappingStore/applyPerBooking(_:nowSeconds:)`` finishes.
    /// Every event applied counts one in `changes` (a calendar file's SEQUENCE), as does every copy
    /// of the booking that differs from the last.
    /// Rules: an older event changes nothing; `confirmed` only inserts; a retired code never comes
    /// back; without an event time a cancellation is final; the same state twice changes nothing;
    /// a code that another booking's record still names is not taken over (`conflict`).
    /// Details carried by the delivery become the cached copy; without them the copy is out of date
    /// and, unless the event is a cancellation (which changes only the status), a prefetch is asked
    /// for in the same step, so no crash can separate the two.
    /// The delivery and its outcome go to the booking's timeline (``BookingTimeline``) in the
    /// record's one `HSET`; an event refused before the booking had a record leaves no entry.
    /// Commands, for the budget test (docs/scaling.md#per-event-budget): one `HMGET`, then for a
    /// change `HSET`, with `SET … EXAT` and `EXPIREAT` unless the code and the end are the same as
    /// before, and a `GET` when the code is new to the booking.
    static let apply = RedisScript(
        BookingFetches.requestFunction + BookingTimeline.lua + """
            local perBooking = ARGV[19] ~= ''
            local rec, newCodeKey, retired = KEYS[1], KEYS[2], KEYS[3]
            -- Per booking, the code key is in another slot: KEYS are the record and retired set.
            if perBooking then newCodeKey, retired = nil, KEYS[2] end
            local eventType, bookingId, code, status = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
            local version = tonumber(ARGV[5])
            local stored = redis.call('HMGET', rec, 'bookingId', 'version', 'status', 'code', 'erased', 'tn', 'endsAt', 'changes',
              'fetchedAt', 'fetchingUntil', 'retiredCodes', 'booking', 'fq')
            local endsAt = tonumber(ARGV[14])
            if ARGV[12] == '' or endsAt == 0 then endsAt = tonumber(stored[7] or '0') end
            local expireAt = tonumber(ARGV[11]) + tonumber(ARGV[9])
            if endsAt > 0 then expireAt = math.max(endsAt + tonumber(ARGV[9]), tonumber(ARGV[11]) + 3600) end
            -- Per booking, what is left for the caller to do in the code keys' and fetch queues' slots.
            local function answer(outcome, namesCode, codeExpireAt, oldCode, fetch)
              if not perBooking then return outcome end
              return {outcome, namesCode and 1 or 0, codeExpireAt, oldCode or '', fetch}
            end
            -- An erased booking keeps only this mark (no personal data): nothing brings it back.
            if stored[5] then return answer('erased', false, 0, nil, 0) end
            local exists = stored[1] ~= false
            local notes = {entry(ARGV[16], 'w', shortEvent(eventType), ARGV[17], string.sub(ARGV[18], 1, 8))}
            local function done(outcome)
              if exists then
                notes[#notes + 1] = entry(ARGV[13], 'a', outcome, shortEvent(eventType), mask(code))
                local args = {}
                fold(args, stored[6], notes)
                redis.call('HSET', rec, unpack(args))
              end
              if not perBooking then return outcome end
              local namesCode = exists and stored[4] == code
              -- Per booking, a refused event whose code the record names (a duplicate, a reordered
              -- or redelivered event) moves the code key's expiry to the record's: a crash before an
              -- earlier event's finish may have left it short. The same event again also asks for
              -- its prefetch again (each step is idempotent).
              local recordExpiry = namesCode and redis.call('EXPIRETIME', rec) or 0
              local refetch = outcome == 'unchanged' and stored[13] and not stored[9]
              return answer(outcome, namesCode, recordExpiry > 0 and recordExpiry or 0, nil, refetch and 1 or 0)
            end
            local function ownedByAnother()
              if perBooking then return ARGV[19] == '0' end
              local owner = redis.call('GET', newCodeKey)
              return owner and owner ~= bookingId and redis.call('HGET', ARGV[15] .. owner, 'code') == code
            end
            local codeIsNew = stored[4] ~= code
            if not exists then
              -- A booking without a record has no retired codes: they expire with it.
              if ownedByAnother() then return done('conflict') end
            else
              if codeIsNew and redis.call('SISMEMBER', retired, code) == 1 then return done('retired') end
              if version < (tonumber(stored[2]) or 0) then return done('stale') end
              if eventType == 'booking.confirmed' then return done('exists') end
              if stored[3] == 'Cancelled' and eventType ~= 'booking.cancelled' and ARGV[6] ~= '1' then return done('cancelled') end
              if not codeIsNew and stored[3] == status and tonumber(stored[2]) == version then return done('unchanged') end
              -- Only a code new to this booking can belong to another one: no extra read otherwise.
              if codeIsNew and ownedByAnother() then return done('conflict') end
            end
            local args = {'bookingId', bookingId, 'code', code, 'status', status, 'version', ARGV[5], 'event', eventType,
              'changes', (tonumber(stored[8]) or 0) + 1}
            local retiredCodes = tonumber(stored[11] or '0')
            local oldCode = nil
            if exists and stored[4] and codeIsNew then
              if perBooking then
                oldCode = stored[4]
              else
                local oldKey = ARGV[10] .. stored[4]
                if redis.call('GET', oldKey) == bookingId then redis.call('DEL', oldKey) end
              end
              retiredCodes = retiredCodes + redis.call('SADD', retired, stored[4])
              args[#args + 1] = 'retiredCodes'
              args[#args + 1] = retiredCodes
              notes[#notes + 1] = entry(ARGV[13], 'c', mask(stored[4]), mask(code))
            end
            if ARGV[7] ~= '' then args[#args + 1] = 'firstName'; args[#args + 1] = ARGV[7] end
            if ARGV[8] ~= '' then args[#args + 1] = 'lastName'; args[#args + 1] = ARGV[8] end
            local fetchRequested, fetch = 0, 0
            if ARGV[12] ~= '' then
              -- The copy's empty values are not kept: a value that went away is deleted.
              local gone = {}
              for i = 20, #ARGV, 2 do
                if ARGV[i + 1] ~= '' then args[#args + 1] = ARGV[i]; args[#args + 1] = ARGV[i + 1]
                elseif exists then gone[#gone + 1] = ARGV[i] end
              end
              args[#args + 1] = 'fetchedAt'; args[#args + 1] = ARGV[13]
              if tonumber(ARGV[14]) > 0 then args[#args + 1] = 'endsAt'; args[#args + 1] = ARGV[14] end
              -- Out of the fetch queues, if it is in one (`fq`: see BookingFetches).
              if stored[13] then
                if perBooking then fetch = 2 else for index = 4, 6 do redis.call('ZREM', KEYS[index], bookingId) end end
                gone[#gone + 1] = 'fq'
              end
              -- Booxi's JSON, as records kept the copy before.
              if stored[12] then gone[#gone + 1] = 'booking' end
              if #gone > 0 then redis.call('HDEL', rec, unpack(gone)) end
            else
              -- A cancellation changes only the status, which the record holds: the copy stays as
              -- current as it was. Any other change makes it out of date.
              if eventType ~= 'booking.cancelled' and (stored[9] or stored[10]) then
                redis.call('HDEL', rec, 'fetchedAt', 'fetchingUntil')
              end
              if eventType ~= 'booking.cancelled' then
                -- Per booking, the caller queues it in the fetch queues' slot.
                if perBooking then fetch, fetchRequested = 1, 1
                else fetchRequested = requestFetch({KEYS[4], KEYS[5], KEYS[6]}, bookingId, 2, ARGV[13]) end
                if fetchRequested == 1 then args[#args + 1] = 'fq'; args[#args + 1] = '1' end
              end
            end
            notes[#notes + 1] = entry(ARGV[13], 'a', 'applied', shortEvent(eventType), mask(code))
            fold(args, stored[6], notes)
            -- The same code and the same end as last time: its key and the expiries stand as set.
            local keysStand = exists and not codeIsNew and endsAt > 0 and tostring(endsAt) == stored[7]
            if not keysStand and not perBooking then redis.call('SET', newCodeKey, bookingId, 'EXAT', expireAt) end
            redis.call('HSET', rec, unpack(args))
            if not keysStand then
              redis.call('EXPIREAT', rec, expireAt)
              if retiredCodes > 0 then redis.call('EXPIREAT', retired, expireAt) end
            end
            -- Wakes the fetchers only when there is something to fetch.
            if fetchRequested == 1 and not perBooking then ringBell(KEYS[7]) end
            -- Per booking, a code key the claim just made (`2`) takes the record's expiry even when
            -- the record's stands.
            local codeExpireAt = expireAt
            if keysStand then codeExpireAt = (ARGV[19] == '2') and redis.call('EXPIRETIME', rec) or 0 end
            return answer('applied', true, codeExpireAt, oldCode, fetch)
            """)

    /// KEYS: code key. ARGV: booking key prefix. Returns the record's fields, or an empty array.
    static let lookup = RedisScript(
        """
        local bookingId = redis.call('GET', KEYS[1])
        if not bookingId then return {} end
        return redis.call('HGETALL', ARGV[1] .. bookingId)
        """)

    /// KEYS: record, retired set, in one slot the fetch queues. ARGV: `1` per booking (else empty),
    /// fetchedAt(ms), status, endsAt(s), retention(s), codePrefix, now(s), bookingId, the version
    /// the copy was fetched at (or empty), who cancelled (or empty), the number of timeline notes,
    /// the notes, then the copy's fields (``CachedCopy``): name, value, ….
    /// A copy that differs from the last counts one in `changes`. Notes `fetched` in the booking's
    /// timeline. The expiries move only when the end moved.
    /// Returns 1 when stored, else 0; per booking `{1 or 0, 1 when the booking is to leave the fetch
    /// queues, the code whose key expires anew (or empty), its expiry}`.
    static let store = RedisScript(
        BookingTimeline.lua + """
            local noteCount = tonumber(ARGV[11])
            local first = 12 + noteCount
            local names = {}
            for i = first, #ARGV, 2 do names[#names + 1] = ARGV[i] end
            local perBooking = ARGV[1] ~= ''
            local stored = redis.call('HMGET', KEYS[1], 'version', 'bookingId', 'booking', 'status', 'code', 'tn', 'changes',
              'endsAt', 'fetchingUntil', 'retiredCodes', 'fq', unpack(names))
            local function answer(storedIt, codeExpireAt)
              if not perBooking then return storedIt end
              if storedIt == 0 then return {0, 0, '', 0} end
              return {1, stored[11] and 1 or 0, stored[5] or '', codeExpireAt}
            end
            if ARGV[9] ~= '' and stored[1] ~= ARGV[9] then return answer(0) end
            -- Out of the fetch queues, if it is in one (`fq`: see BookingFetches).
            if stored[11] and not perBooking then for index = 3, 5 do redis.call('ZREM', KEYS[index], ARGV[8]) end end
            -- No record, or an erased one (which keeps no bookingId).
            if not stored[2] then return answer(0) end
            local args = {'fetchedAt', ARGV[2]}
            local changed, gone = false, {}
            -- The copy's empty values are not kept: a value that went away is deleted.
            for i = 1, #names do
              local value, old = ARGV[first - 1 + 2 * i], stored[11 + i]
              if (old or '') ~= value then changed = true end
              if value ~= '' then args[#args + 1] = names[i]; args[#args + 1] = value
              elseif old then gone[#gone + 1] = names[i] end
            end
            if changed then args[#args + 1] = 'changes'; args[#args + 1] = (tonumber(stored[7]) or 0) + 1 end
            local status = stored[4]
            if ARGV[3] ~= '' and stored[4] ~= 'Cancelled' then
              status = ARGV[3]
              args[#args + 1] = 'status'; args[#args + 1] = ARGV[3]
            end
            if ARGV[10] ~= '' then args[#args + 1] = 'cancelledBy'; args[#args + 1] = ARGV[10] end
            local endsAt = tonumber(ARGV[4])
            local endMoved = endsAt > 0 and tostring(endsAt) ~= stored[8]
            if endMoved then args[#args + 1] = 'endsAt'; args[#args + 1] = ARGV[4] end
            local notes = {entry(ARGV[2], 'f', status or '')}
            for i = 12, first - 1 do notes[#notes + 1] = ARGV[i] end
            fold(args, stored[6], notes)
            redis.call('HSET', KEYS[1], unpack(args))
            -- The fetch is over; Booxi's JSON, as records kept the copy before, goes.
            if stored[9] then gone[#gone + 1] = 'fetchingUntil' end
            if stored[11] then gone[#gone + 1] = 'fq' end
            if stored[3] then gone[#gone + 1] = 'booking' end
            if #gone > 0 then redis.call('HDEL', KEYS[1], unpack(gone)) end
            -- Per booking, the code key's expiry is the caller's, every time: a crash between this
            -- and that would otherwise leave it short of the record's for good.
            if not endMoved then return answer(1, perBooking and redis.call('EXPIRETIME', KEYS[1]) or 0) end
            local expireAt = math.max(endsAt + tonumber(ARGV[5]), tonumber(ARGV[7]) + 3600)
            redis.call('EXPIREAT', KEYS[1], expireAt)
            if stored[10] then redis.call('EXPIREAT', KEYS[2], expireAt) end
            if stored[5] and not perBooking then redis.call('EXPIREAT', ARGV[6] .. stored[5], expireAt) end
            return answer(1, expireAt)
            """)
}
