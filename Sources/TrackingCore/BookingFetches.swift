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
    /// entry up from the lower classes).
    public func request(_ bookingID: String, _ callClass: BooxiCallClass, after delay: Duration = .zero) async throws {
        let index = (Self.classes.firstIndex(of: callClass) ?? 0) + 1
        try await redis.eval(
            Self.requestScript, keys: allKeys + [keys.fetchBell, keys.booking(bookingID)],
            arguments: [bookingID, index, Int(JobEnvelope.nowMilliseconds() + delay.milliseconds)])
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
        let reply = try await redis.eval(
            Self.popScript, keys: allKeys, arguments: [Int(now), keys.bookingPrefix, Int(now + fetchTimeout.milliseconds)])
        guard let parts = reply.array, parts.count == 3, let id = parts[0].string, let index = parts[1].int else { return nil }
        return (id, Self.classes[index - 1], parts[2].string.flatMap { Int64($0) })
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

    /// The rule for asking for a fetch, as a Lua function, so the request script and the mapping
    /// store's apply script (which asks for a prefetch in the same step as the change) share it.
    /// An entry in a more urgent class wins; one in a less urgent class is moved up. A prefetch for
    /// a booking fetched since its last event is superseded, and a booking being fetched right now
    /// needs no second fetch (`recordChecked`: the caller just made the record say neither).
    /// `wanted` is 1 (visitor), 2 (prefetch) or 3 (refresh).
    /// A booking with an entry in a queue has `fq` in its record, set with the entry (by the apply
    /// script in its own write, by the request script here) and removed by the scripts that store a
    /// copy, which look at the queues only when it is there: a webhook carrying the booking, the
    /// common case, costs no `ZREM` (docs/scaling.md#per-event-budget). Popping an entry leaves the
    /// mark until the copy is stored; a mark without an entry costs three `ZREM`s once, no more.
    static let requestFunction = """
        local function requestFetch(queues, record, bookingId, wanted, due, recordChecked)
          if not recordChecked then
            if wanted == 2 and redis.call('HEXISTS', record, 'fetchedAt') == 1 then return 0 end
            if tonumber(redis.call('HGET', record, 'fetchingUntil') or '0') > tonumber(due) then return 0 end
          end
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
            local added = requestFetch({KEYS[1], KEYS[2], KEYS[3]}, KEYS[5], ARGV[1], tonumber(ARGV[2]), ARGV[3], false)
            if added == 1 then
              if redis.call('HEXISTS', KEYS[5], 'bookingId') == 1 then redis.call('HSET', KEYS[5], 'fq', '1') end
              redis.call('LPUSH', KEYS[4], '1')
              redis.call('LTRIM', KEYS[4], 0, 0)
            end
            return added
            """)

    /// KEYS: the class zsets. ARGV: nowMs. The index of the first class with a due entry, or 0.
    static let peekScript = RedisScript(
        """
        for index = 1, 3 do
          if redis.call('ZCOUNT', KEYS[index], '-inf', ARGV[1]) > 0 then return index end
        end
        return 0
        """)

    /// KEYS: the class zsets. ARGV: nowMs, booking key prefix, fetching-until ms. Pops the first
    /// due entry: {bookingId, class index, the record's version or ''}.
    static let popScript = RedisScript(
        """
        for index = 1, 3 do
          local due = redis.call('ZRANGEBYSCORE', KEYS[index], '-inf', ARGV[1], 'LIMIT', 0, 1)
          if #due > 0 then
            redis.call('ZREM', KEYS[index], due[1])
            local record = ARGV[2] .. due[1]
            local version = redis.call('HGET', record, 'version')
            if version then redis.call('HSET', record, 'fetchingUntil', ARGV[3]) end
            return {due[1], index, version or ''}
          end
        end
        return {}
        """)
}
