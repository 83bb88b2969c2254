import Foundation
import JobQueue
import RedisClient

extension MappingStore {
    /// Records written before event times were clamped may hold a version far in the future (a
    /// forged or skewed `modifiedOn`), which would outrank every later genuine event. This brings
    /// each such version down to now, once per Redis: a flag key marks the repair done. Several
    /// workers starting together may each run it; the repair is idempotent. Returns the records
    /// repaired (0 when the flag was already set).
    public func repairFutureVersions(now: Int64 = JobEnvelope.nowMilliseconds()) async throws -> Int {
        let flag = keys.prefix + "{m}:repaired:future-versions"
        guard try await redis.send("EXISTS", flag).int == 0 else { return 0 }
        let ceiling = now + Self.maxFutureSkewMilliseconds
        var repaired = 0
        try await redis.scanKeys(matching: keys.bookingPattern) { found in
            var pipeline = RedisPipeline()
            for key in found { pipeline.append(Self.clampVersion, keys: [key], arguments: [Int(ceiling), Int(now)]) }
            repaired += try await redis.execute(pipeline).reduce(0) { $0 + ($1.int ?? 0) }
        }
        _ = try await redis.send("SET", flag, Int(now))
        return repaired
    }

    /// KEYS: a booking record. ARGV: the highest believable version, now (ms).
    static let clampVersion = RedisScript(
        """
        local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
        if version and version > tonumber(ARGV[1]) then
          redis.call('HSET', KEYS[1], 'version', ARGV[2])
          return 1
        end
        return 0
        """)
}
