import Foundation
import RedisClient

/// The dead-letter list, for operators: read, replay (the job goes back to its waiting list with
/// its attempts reset, byte for byte otherwise) and purge.
extension JobQueue {
    /// The newest `limit` dead letters, newest first.
    public func deadLetters(limit: Int = 50) async throws -> [DeadLetter] {
        try await redis.lrange(keys.dead, 0, limit - 1).compactMap { try? JSONDecoder().decode(DeadLetter.self, from: Data($0)) }
    }

    /// Replays the oldest `limit` dead letters; returns how many went back.
    @discardableResult
    public func replayDeadLetters(limit: Int = .max) async throws -> Int {
        var replayed = 0
        while replayed < limit {
            let batch = min(limit - replayed, 500)
            let moved = try await redis.eval(Self.replay, keys: [keys.dead, keys.webhooks, keys.commands], arguments: [batch]).int ?? 0
            replayed += moved
            if moved < batch { break }
        }
        return replayed
    }

    /// Deletes every dead letter; returns how many there were.
    @discardableResult
    public func purgeDeadLetters() async throws -> Int {
        var pipeline = RedisPipeline()
        pipeline.append("LLEN", keys.dead)
        pipeline.append("DEL", keys.dead)
        return try await redis.execute(pipeline)[0].int ?? 0
    }

    static let replay = RedisScript(
        """
        local moved = 0
        for i = 1, tonumber(ARGV[1]) do
          local letter = redis.call('RPOP', KEYS[1])
          if not letter then break end
          local ok, decoded = pcall(cjson.decode, letter)
          if ok and type(decoded) == 'table' and type(decoded['job']) == 'table' then
            local job = decoded['job']
            job['attempt'] = 0
            job['lastError'] = nil
            local target = KEYS[3]
            if job['kind'] == 'webhook' then target = KEYS[2] end
            redis.call('LPUSH', target, cjson.encode(job))
            moved = moved + 1
          else
            redis.call('LPUSH', KEYS[1], letter)
            break
          end
        end
        return moved
        """)
}
