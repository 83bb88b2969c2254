import Foundation
import Logging
import RedisClient

/// A job taken from a waiting list, as its raw bytes (needed to remove exactly it from the
/// processing list) and decoded.
public struct FetchedJob: Sendable {
    public let raw: [UInt8]
    /// Nil when the bytes are not an envelope: the worker dead-letters it rather than losing it.
    public let envelope: JobEnvelope?
}

/// The reliable queue over Redis lists (DESIGN §3, §4): jobs move with `BLMOVE` from a waiting
/// list into the worker's own processing list, and leave it only when acknowledged, retried or
/// dead-lettered, so a crash never loses one.
public struct JobQueue: Sendable {
    public let redis: RedisClient
    public let keys: QueueKeys

    public init(redis: RedisClient, keys: QueueKeys) {
        self.redis = redis
        self.keys = keys
    }

    public func enqueue(_ envelope: JobEnvelope) async throws {
        try await redis.send("LPUSH", keys.waitingList(forKind: envelope.kind), envelope.encoded())
    }

    /// Waits up to `blockTimeout` for a job on `source`, then takes up to `maxBatch - 1` more
    /// without blocking, all into `workerID`'s processing list.
    public func fetch(from source: String, workerID: String, maxBatch: Int, blockTimeout: Duration) async throws -> [FetchedJob] {
        let processing = keys.processing(workerID)
        guard let first = try await redis.blmove(from: source, to: processing, timeout: blockTimeout) else { return [] }
        var raws = [first]
        if maxBatch > 1 {
            // One script moves what is there, up to the batch size, without sending N commands
            // when the list is short.
            let more = try await redis.eval(Self.moveUpTo, keys: [source, processing], arguments: [maxBatch - 1])
            raws += more.array?.compactMap(\.bytes) ?? []
        }
        return raws.map { FetchedJob(raw: $0, envelope: try? JobEnvelope.decode($0)) }
    }

    /// Removes finished jobs from the processing list.
    public func acknowledge(_ jobs: [FetchedJob], workerID: String) async throws {
        guard !jobs.isEmpty else { return }
        var pipeline = RedisPipeline()
        for job in jobs { pipeline.append("LREM", keys.processing(workerID), -1, job.raw) }
        _ = try await redis.execute(pipeline)
    }

    /// Schedules another attempt at `dueAt` (ms), counting this one, atomically with leaving the
    /// processing list.
    public func retry(_ job: FetchedJob, workerID: String, dueAt: Int64, error: String) async throws {
        var envelope = job.envelope ?? JobEnvelope(kind: "unknown", payload: String(decoding: job.raw, as: UTF8.self))
        envelope.attempt += 1
        envelope.lastError = error
        try await redis.eval(
            Self.moveToDelayed, keys: [keys.processing(workerID), keys.delayed],
            arguments: [job.raw, envelope.encoded(), Int(dueAt)])
    }

    /// Moves a job to the dead-letter list with why it failed, atomically with leaving the
    /// processing list.
    public func deadLetter(_ job: FetchedJob, workerID: String, reason: String, lastError: String? = nil) async throws {
        let envelope = job.envelope ?? JobEnvelope(kind: "unknown", payload: String(decoding: job.raw, as: UTF8.self))
        let letter = DeadLetter(job: envelope, reason: reason, attempts: envelope.attempt + 1, lastError: lastError ?? envelope.lastError)
        try await redis.eval(
            Self.moveToDead, keys: [keys.processing(workerID), keys.dead],
            arguments: [job.raw, Array(try JSONEncoder().encode(letter))])
    }

    /// Moves delayed jobs whose time has come back to their waiting lists; returns how many.
    @discardableResult
    public func promoteDue(now: Int64 = JobEnvelope.nowMilliseconds(), limit: Int = 500) async throws -> Int {
        try await redis.eval(
            Self.promote, keys: [keys.delayed, keys.webhooks, keys.commands], arguments: [Int(now), limit]
        ).int ?? 0
    }

    public func depths() async throws -> QueueDepths {
        var pipeline = RedisPipeline()
        pipeline.append("LLEN", keys.webhooks)
        pipeline.append("LLEN", keys.commands)
        pipeline.append("ZCARD", keys.delayed)
        pipeline.append("LLEN", keys.dead)
        let replies = try await redis.execute(pipeline).map { $0.int ?? 0 }
        return QueueDepths(webhooks: replies[0], commands: replies[1], delayed: replies[2], dead: replies[3])
    }

    static let moveUpTo = RedisScript(
        """
        local moved = {}
        for i = 1, tonumber(ARGV[1]) do
          local job = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
          if not job then break end
          moved[#moved + 1] = job
        end
        return moved
        """)

    static let moveToDelayed = RedisScript(
        """
        redis.call('LREM', KEYS[1], -1, ARGV[1])
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
        return 1
        """)

    static let moveToDead = RedisScript(
        """
        redis.call('LREM', KEYS[1], -1, ARGV[1])
        redis.call('LPUSH', KEYS[2], ARGV[2])
        return 1
        """)

    /// Webhook jobs go back to the webhook list, everything else to the command list.
    static let promote = RedisScript(
        """
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        for _, job in ipairs(due) do
          redis.call('ZREM', KEYS[1], job)
          local ok, decoded = pcall(cjson.decode, job)
          if ok and type(decoded) == 'table' and decoded['kind'] == 'webhook' then
            redis.call('LPUSH', KEYS[2], job)
          else
            redis.call('LPUSH', KEYS[3], job)
          end
        end
        return #due
        """)
}

public struct QueueDepths: Sendable, Equatable, Codable {
    public var webhooks: Int
    public var commands: Int
    public var delayed: Int
    public var dead: Int

    public init(webhooks: Int, commands: Int, delayed: Int, dead: Int) {
        self.webhooks = webhooks
        self.commands = commands
        self.delayed = delayed
        self.dead = dead
    }
}
