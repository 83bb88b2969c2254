import Foundation
import RedisClient

/// Booxi's fair-use limit, shared by every process (workers and API replicas) through Redis: two
/// token buckets (per second and per minute, each with its burst) and a pause that a 429 sets for
/// everyone until its `Retry-After` has passed. One Lua script decides atomically.
public struct OutboundRateLimiter: Sendable {
    public let redis: RedisClient
    let bucketKey: String
    let pauseKey: String
    public let perSecond: Int
    public let perMinute: Int

    public init(redis: RedisClient, keyPrefix: String, perSecond: Int, perMinute: Int) {
        self.redis = redis
        self.bucketKey = keyPrefix + "{r}:booxi:bucket"
        self.pauseKey = keyPrefix + "{r}:booxi:pause"
        self.perSecond = perSecond
        self.perMinute = perMinute
    }

    /// Waits until a call may go out, or throws ``BooxiError/rateLimited(retryAfter:)`` if that
    /// would take longer than `maxWait`. `cost` is 2 for calls Booxi counts double.
    public func acquire(cost: Int = 1, maxWait: Duration) async throws {
        let deadline = ContinuousClock.now + maxWait
        while true {
            let nowMs = Int(Date().timeIntervalSince1970 * 1000)
            let waitMs = try await redis.eval(
                Self.take, keys: [bucketKey, pauseKey], arguments: [nowMs, perSecond, perMinute, cost]
            ).int ?? 0
            if waitMs <= 0 { return }
            let wait = Duration.milliseconds(waitMs)
            guard ContinuousClock.now + wait <= deadline else { throw BooxiError.rateLimited(retryAfter: wait) }
            try await Task.sleep(for: wait)
        }
    }

    /// Every caller pauses until `retryAfter` has passed (Booxi answered 429).
    public func pause(for retryAfter: Duration) async throws {
        try await redis.send("SET", pauseKey, "1", "PX", max(1, Int(retryAfter.milliseconds)))
    }

    /// KEYS: bucket hash, pause key. ARGV: now(ms), perSecond, perMinute, cost.
    /// Returns 0 when the tokens were taken, else the ms to wait.
    static let take = RedisScript(
        """
        local pause = redis.call('PTTL', KEYS[2])
        if pause > 0 then return pause end
        local now = tonumber(ARGV[1])
        local perSecond, perMinute, cost = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local state = redis.call('HMGET', KEYS[1], 's', 'm', 't')
        local s = tonumber(state[1]) or perSecond
        local m = tonumber(state[2]) or perMinute
        local t = tonumber(state[3]) or now
        local elapsed = math.max(0, now - t) / 1000
        s = math.min(perSecond, s + elapsed * perSecond)
        m = math.min(perMinute, m + elapsed * perMinute / 60)
        if s >= cost and m >= cost then
          redis.call('HSET', KEYS[1], 's', s - cost, 'm', m - cost, 't', now)
          redis.call('PEXPIRE', KEYS[1], 120000)
          return 0
        end
        redis.call('HSET', KEYS[1], 's', s, 'm', m, 't', now)
        redis.call('PEXPIRE', KEYS[1], 120000)
        local wait = 0
        if s < cost then wait = math.max(wait, (cost - s) / perSecond * 1000) end
        if m < cost then wait = math.max(wait, (cost - m) / (perMinute / 60) * 1000) end
        return math.max(10, math.ceil(wait))
        """)
}
