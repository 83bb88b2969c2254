import BooxiModels
import Foundation
import JobQueue
import RedisClient

/// Bookings waiting to be fetched from Booxi in the background, by class: a visitor retrying a
/// booking still being prepared, a prefetch after a webhook without details, a refresh after the
/// TTL. One zset per class, so a booking asked for twice is one entry (duplicates and superseded
/// requests collapse); storing a fresh copy removes it from all of them (``MappingStore``).
/// The workers' fetchers take the most urgent due entry once the budget granted them a call.
public struct BookingFetches: Sendable {
    let redis: RedisClient
    let keys: MappingKeys

    /// The classes this queue serves, most urgent first.
    public static let classes: [BooxiCallClass] = [.visitor, .prefetch, .refresh]

    public init(redis: RedisClient, keys: MappingKeys) {
        self.redis = redis
        self.keys = keys
    }

    var allKeys: [String] { Self.classes.map(keys.fetches) }

    /// Asks for a background fetch of `bookingID` in `callClass` (a visitor's request moves an
    /// entry up from the lower classes). Per booking (Redis Cluster) the record is checked and
    /// marked first, in its own slot, then the entry queued: a crash between the two leaves a mark
    /// without an entry, which costs the next copy stored three `ZREM`s, nothing more.
    public func request(_ bookingID: String, _ callClass: BooxiCallClass, after delay: Duration = .zero) async throws {
        let index = (Self.classes.firstIndex(of: callClass) ?? 0) + 1
        let due = Int(JobEnvelope.nowMilliseconds() + delay.milliseconds)
        if keys.codesShareTheRecordsSlot {
            try await redis.eval(
                Self.requestScript, keys: allKeys + [keys.fetchBell, keys.booking(bookingID)], arguments: [bookingID, index, due])
            return
        }
        guard try await redis.eval(Self.markScript, keys: [keys.booking(bookingID)], arguments: [index, due]).int == 1 else { return }
        var pipeline = RedisPipeline()
        appendEnqueue(bookingID, classIndex: index, due: due, to: &pipeline)
        _ = try RedisClient.checked(try await redis.execute(pipeline)[0])
    }

    /// Queues `bookingID` in class `classIndex` (1-based) without looking at its record, and rings
    /// the bell when it was added: the fetch queues' half of a request, per booking.
    func appendEnqueue(_ bookingID: String, classIndex: Int, due: Int, to pipeline: inout RedisPipeline) {
        pipeline.append(Self.enqueueScript, keys: allKeys + [keys.fetchBell], arguments: [bookingID, classIndex, due])
    }

    /// Takes `bookingID` out of every fetch queue: the fetch queues' half of storing a copy, per
    /// booking.
    func appendLeave(_ bookingID: String, to pipeline: inout RedisPipeline) {
        for key in allKeys { pipeline.append("ZREM", key, bookingID) }
    }

    /// The most urgent class with a due entry, without taking it.
    public func mostUrgentDue() async throws -> BooxiCallClass? {
        let reply = try await redis.eval(Self.peekScript, keys: allKeys, arguments: [Int(JobEnvelope.nowMilliseconds())])
        return reply.int.flatMap { $0 > 0 ? Self.classes[$0 - 1] : nil }
    }

    /// Takes the most urgent due entry, marking its booking as being fetched for up to
    /// `fetchTimeout`; with the record's version as it was then (nil: no record).
    public func next(fetchTimeout: Duration) async throws -> (bookingID: String, callClass: BooxiCallClass, version: Int64?)? {
        let now = JobEnvelope.nowMilliseconds()
        let until = Int(now + fetchTimeout.milliseconds)
        let sharedSlot = keys.codesShareTheRecordsSlot
        let reply = try await redis.eval(
            Self.popScript, keys: allKeys, arguments: [Int(now), sharedSlot ? keys.bookingPrefix : "", until])
        guard let parts = reply.array, parts.count == 3, let id = parts[0].string, let index = parts[1].int else { return nil }
        var version = parts[2].string
        // Per booking, the record is marked in its own slot. A crash before leaves the entry taken
        // and its record unmarked: the next visitor's lookup asks for the fetch again.
        if !sharedSlot { version = try await redis.eval(Self.fetchingScript, keys: [keys.booking(id)], arguments: [until]).string }
        return (id, Self.classes[index - 1], version.flatMap { Int64($0) })
    }

    /// Waits up to `timeout` for a request to be made.
    public func waitForRequest(timeout: Duration) async throws {
        _ = try await redis.blpop(keys.fetchBell, timeout: timeout)
    }

    /// Entries per class, due or not.
    public func counts() async throws -> [BooxiCallClass: Int] {
        var pipeline = RedisPipeline()
        for key in allKeys { pipeline.append(RedisCommand("ZCARD", key)) }
        let replies = try await redis.execute(pipeline)
        return Dictionary(uniqueKeysWithValues: zip(Self.classes, replies.map { $0.int ?? 0 }))
    }

    /// The rule for asking for a fetch, as Lua functions, so the request scripts and the mapping
    /// store's apply script (which asks for a prefetch in the same step as the change) share it.
    /// `recordWantsFetch`: a prefetch for a booking fetched since its last event is superseded, and
    /// a booking being fetched right now needs no second fetch. `requestFetch`: an entry in a more
    /// urgent class wins; one in a less urgent class is moved up. `wanted` is 1 (visitor), 2
    /// (prefetch) or 3 (refresh).
    /// A booking with an entry in a queue has `fq` in its record, set with the entry (by the apply
    /// script in its own write, by the request script here) and removed by the scripts that store a
    /// copy, which look at the queues only when it is there: a webhook carrying the booking, the
    /// common case, costs no `ZREM` (docs/scaling.md#per-event-budget). Popping an entry leaves the
    /// mark until the copy is stored; a mark without an entry costs three `ZREM`s once, no more.
    /// `ringBell` wakes the fetchers; `markFetching` marks a popped booking's record as being
    /// fetched and returns its version.
    static let requestFunction = """
        local function ringBell(bell)
          redis.call('LPUSH', bell, '1')
          redis.call('LTRIM', bell, 0, 0)
        end
        local function markFetching(record, untilMs)
          local version = redis.call('HGET', record, 'version')
          if version then redis.call('HSET', record, 'fetchingUntil', untilMs) end
          return version
        end
        local function recordWantsFetch(record, wanted, due)
          if wanted == 2 and redis.call('HEXISTS', record, 'fetchedAt') == 1 then return false end
          return tonumber(redis.call('HGET', record, 'fetchingUntil') or '0') <= tonumber(due)
        end
        local function requestFetch(queues, bookingId, wanted, due)
          for index = 1, wanted - 1 do
            if redis.call('ZSCORE', queues[index], bookingId) then return 0 end
          end
          local added = redis.call('ZADD', queues[wanted], 'NX', due, bookingId)
          for index = wanted + 1, 3 do redis.call('ZREM', queues[index], bookingId) end
          return added
        end

        """

    /// KEYS: the class zsets (most urgent first), bell, the booking's record. ARGV: bookingId,
    /// class index, dueMs.
    static let requestScript = RedisScript(
        requestFunction + """
            if not recordWantsFetch(KEYS[5], tonumber(ARGV[2]), ARGV[3]) then return 0 end
            local added = requestFetch({KEYS[1], KEYS[2], KEYS[3]}, ARGV[1], tonumber(ARGV[2]), ARGV[3])
            if added == 1 then
              if redis.call('HEXISTS', KEYS[5], 'bookingId') == 1 then redis.call('HSET', KEYS[5], 'fq', '1') end
              ringBell(KEYS[4])
            end
            return added
            """)

    /// Per booking, the record's half of a request. KEYS: the record. ARGV: class index, dueMs.
    /// 1 when the fetch is wanted (the record, if any, now has `fq`), else 0.
    static let markScript = RedisScript(
        requestFunction + """
            if not recordWantsFetch(KEYS[1], tonumber(ARGV[1]), ARGV[2]) then return 0 end
            if redis.call('HEXISTS', KEYS[1], 'bookingId') == 1 then redis.call('HSET', KEYS[1], 'fq', '1') end
            return 1
            """)

    /// Per booking, the queues' half of a request. KEYS: the class zsets, bell. ARGV: bookingId,
    /// class index, dueMs.
    static let enqueueScript = RedisScript(
        requestFunction + """
            local added = requestFetch({KEYS[1], KEYS[2], KEYS[3]}, ARGV[1], tonumber(ARGV[2]), ARGV[3])
            if added == 1 then ringBell(KEYS[4]) end
            return added
            """)

    /// Per booking, the record's half of a pop. KEYS: the record. ARGV: fetching-until ms. The
    /// record's version, or nil without a record.
    static let fetchingScript = RedisScript(requestFunction + "return markFetching(KEYS[1], ARGV[1])")

    /// KEYS: the class zsets. ARGV: nowMs. The index of the first class with a due entry, or 0.
    static let peekScript = RedisScript(
        """
        for index = 1, 3 do
          if redis.call('ZCOUNT', KEYS[index], '-inf', ARGV[1]) > 0 then return index end
        end
        return 0
        """)

    /// KEYS: the class zsets. ARGV: nowMs, booking key prefix (empty per booking: the record is in
    /// another slot), fetching-until ms. Pops the first due entry: {bookingId, class index, the
    /// record's version or ''}.
    static let popScript = RedisScript(
        requestFunction + """
            for index = 1, 3 do
              local due = redis.call('ZRANGEBYSCORE', KEYS[index], '-inf', ARGV[1], 'LIMIT', 0, 1)
              if #due > 0 then
                redis.call('ZREM', KEYS[index], due[1])
                if ARGV[2] == '' then return {due[1], index, ''} end
                return {due[1], index, markFetching(ARGV[2] .. due[1], ARGV[3]) or ''}
              end
            end
            return {}
            """)
}
