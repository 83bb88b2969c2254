import Foundation
import Logging
import RedisClient

/// The reliable queue over Redis lists (docs/architecture.md §3, §4): jobs move with `BLMOVE` from a waiting
/// list into the worker's own processing list, and leave it only when acknowledged, retried or
/// dead-lettered, so a crash never loses one. The only code that knows the queue's key layout and
/// scripts: producers push through it (``appendPush(_:to:)`` and its variants, inside their own
/// pipelines), workers drive it through ``JobQueueDriver``.
public struct JobQueue: JobQueueDriver {
    let redis: RedisClient
    /// Where each booking's jobs live (one shard unless `queue.shards` says more).
    public let shards: QueueShards

    public init(redis: RedisClient, shards: QueueShards = QueueShards()) {
        self.redis = redis
        self.shards = shards
    }

    public var shardCount: Int { shards.count }

    // MARK: Producers

    /// Appends the push of `envelope` onto its waiting list, in the booking's shard, to `pipeline`.
    public func appendPush(_ envelope: JobEnvelope, forBooking bookingID: String?, to pipeline: inout RedisPipeline) {
        pipeline.append(RedisCommand("LPUSH", shards.forBooking(bookingID).waitingList(for: envelope.kind), envelope.encoded()))
    }

    /// Appends a push that happens once per `eventID` within `windowSeconds`: the seen-marker and
    /// the push are one script, in the booking's shard (a booking's deliveries all go there, so a
    /// duplicate meets its marker). The marker holds the booking id (`1` without one), for the
    /// console's search by event id. Its reply reads as ``PushOutcome/queued`` or ``PushOutcome/duplicate``.
    public func appendPush(
        _ envelope: JobEnvelope, forBooking bookingID: String?, oncePer eventID: String, windowSeconds: Int, to pipeline: inout RedisPipeline
    ) {
        let keys = shards.forBooking(bookingID)
        pipeline.append(
            QueueScripts.pushOnce, keys: [keys.waitingList(for: envelope.kind), keys.seen(eventID)],
            arguments: [envelope.encoded(), windowSeconds, bookingID ?? "1"])
    }

    /// What the first delivery of `eventID` was about, and how many deliveries of it the ingress
    /// stopped since, while the de-duplication window remembers it. The event id alone does not
    /// name a shard: with several, each is asked in one pipeline, unless the booking is known
    /// (its deliveries' marker is in its shard).
    public func seenEvent(_ eventID: String, ofBooking bookingID: String? = nil) async throws -> SeenEvent? {
        var pipeline = RedisPipeline()
        for keys in bookingID.map({ [shards.forBooking($0)] }) ?? shards.all { pipeline.append("GET", keys.seen(eventID)) }
        for reply in try await redis.execute(pipeline) {
            if let marker = try RedisClient.checked(reply).bytes { return SeenEvent(marker: String(decoding: marker, as: UTF8.self)) }
        }
        return nil
    }

    /// What the first delivery of `eventID` was about (the subject its push marked), while the
    /// de-duplication window remembers it.
    public func subject(ofEvent eventID: String) async throws -> String? {
        try await seenEvent(eventID)?.subject
    }

    /// Appends a push that holds `bookingID`'s command lock (one command in flight per booking) and
    /// writes the job's first `status`, both for `ttlSeconds`. The envelope's id must name the
    /// booking's shard (``QueueShards/newJobID(forBooking:)``). Its reply reads as
    /// ``PushOutcome/queued`` or ``PushOutcome/busy(holder:)``.
    public func appendPush(
        _ envelope: JobEnvelope, holdingCommandLockOf bookingID: String, status: [UInt8], ttlSeconds: Int, to pipeline: inout RedisPipeline
    ) {
        let keys = shards.forBooking(bookingID)
        precondition(shards.ofJob(envelope.id).shard == keys.shard, "a command's job id must name its booking's shard")
        pipeline.append(
            QueueScripts.pushHoldingLock,
            keys: [keys.bookingCommandLock(bookingID), keys.job(envelope.id), keys.waitingList(for: envelope.kind)],
            arguments: [envelope.id, status, envelope.encoded(), ttlSeconds])
    }

    /// Appends `WAIT replicas timeout` after a push in the same pipeline (so on the same
    /// connection): its reply is how many replicas hold every write made on that connection so
    /// far, the push included. Read it with ``ReplicaWait/replicated(_:)``.
    public func appendReplicaWait(_ wait: ReplicaWait, to pipeline: inout RedisPipeline) {
        pipeline.append(RedisCommand("WAIT", wait.replicas, Int(wait.timeout.milliseconds)))
    }

    /// Pushes one envelope on its own (tests, tools).
    public func push(_ envelope: JobEnvelope, forBooking bookingID: String? = nil) async throws {
        var pipeline = RedisPipeline()
        appendPush(envelope, forBooking: bookingID, to: &pipeline)
        _ = try RedisClient.checked(try await redis.execute(pipeline)[0])
    }

    // MARK: JobQueueDriver

    public func fetch(from queue: QueueName, shard: Int, laneID: String, maxBatch: Int, blockTimeout: Duration) async throws -> [FetchedJob] {
        let keys = shards[shard]
        let source = keys.waitingList(queue)
        let processing = keys.processing(laneID)
        guard blockTimeout > .zero else {
            // Only what is there: one script, whatever the batch.
            let moved = try await redis.eval(QueueScripts.moveUpTo, keys: [source, processing], arguments: [max(1, maxBatch)])
            return (moved.array?.compactMap(\.bytes) ?? []).map { FetchedJob(raw: $0, shard: shard) }
        }
        // The count of what is left, in the same round trip, tells whether a batch is worth a second
        // one: a job that came alone costs no empty `LMOVE`.
        let (moved, left) = try await redis.blmoveCounting(from: source, to: processing, timeout: blockTimeout)
        guard let first = moved else { return [] }
        var raws = [first]
        if maxBatch > 1 && left > 0 {
            let more = try await redis.eval(QueueScripts.moveUpTo, keys: [source, processing], arguments: [min(left, maxBatch - 1)])
            raws += more.array?.compactMap(\.bytes) ?? []
        }
        return raws.map { FetchedJob(raw: $0, shard: shard) }
    }

    public func acknowledge(_ jobs: [FetchedJob], laneID: String) async throws {
        guard !jobs.isEmpty else { return }
        var pipeline = RedisPipeline()
        for job in jobs { pipeline.append("LREM", shards[job.shard].processing(laneID), -1, job.raw) }
        _ = try await redis.execute(pipeline)
    }

    @discardableResult
    public func moveToDelayed(_ job: FetchedJob, envelope: JobEnvelope, dueAt: Int64, laneID: String) async throws -> Bool {
        let keys = shards[job.shard]
        return try await redis.eval(
            QueueScripts.moveToDelayed, keys: [keys.processing(laneID), keys.delayed],
            arguments: [job.raw, envelope.encoded(), Int(dueAt)]
        ).int == 1
    }

    @discardableResult
    public func moveToDead(_ job: FetchedJob, letter: DeadLetter, laneID: String) async throws -> Bool {
        let keys = shards[job.shard]
        return try await redis.eval(
            QueueScripts.moveToDead, keys: [keys.processing(laneID), keys.dead],
            arguments: [job.raw, Array(try JSONEncoder().encode(letter))]
        ).int == 1
    }

    @discardableResult
    public func promoteDue(now: Int64 = JobEnvelope.nowMilliseconds(), limit: Int = 500) async throws -> Int {
        var pipeline = RedisPipeline()
        for keys in shards.all {
            pipeline.append(QueueScripts.promote, keys: [keys.delayed, keys.webhooks, keys.commands], arguments: [Int(now), limit])
        }
        return try await redis.execute(pipeline).reduce(0) { $0 + (try RedisClient.checked($1).int ?? 0) }
    }

    /// The depths summed over the shards.
    public func depths() async throws -> QueueDepths {
        var pipeline = RedisPipeline()
        for keys in shards.all {
            pipeline.append("LLEN", keys.webhooks)
            pipeline.append("LLEN", keys.commands)
            pipeline.append("ZCARD", keys.delayed)
            pipeline.append("LLEN", keys.dead)
        }
        let replies = try await redis.execute(pipeline).map { try RedisClient.checked($0).int ?? 0 }
        var depths = QueueDepths(webhooks: 0, commands: 0, delayed: 0, dead: 0)
        for start in stride(from: 0, to: replies.count, by: 4) {
            depths.webhooks += replies[start]
            depths.commands += replies[start + 1]
            depths.delayed += replies[start + 2]
            depths.dead += replies[start + 3]
        }
        return depths
    }
}

/// How many replicas must hold a push before its producer reports it stored (`ingress.replicaAcks`).
public struct ReplicaWait: Sendable, Equatable {
    public let replicas: Int
    public let timeout: Duration

    /// Nil for 0 replicas: the primary's own answer is enough, no `WAIT` is sent.
    public init?(replicas: Int, timeout: Duration) {
        guard replicas > 0 else { return nil }
        self.replicas = replicas
        self.timeout = timeout
    }

    /// How many replicas `WAIT` reported, and whether that is enough.
    public func replicated(_ reply: RedisReply) throws -> (acknowledged: Int, enough: Bool) {
        guard case .integer(let acknowledged) = try RedisClient.checked(reply) else {
            throw RedisError.protocolError("unexpected reply to WAIT: \(reply)")
        }
        return (acknowledged, acknowledged >= replicas)
    }
}

/// What a producer's push did, read from its reply in the caller's pipeline.
public enum PushOutcome: Sendable, Equatable {
    case queued
    /// The event id was seen within the dedupe window: not queued again.
    case duplicate
    /// Another command for this booking is in flight: `holder` is its job id.
    case busy(holder: String)

    public init(reply: RedisReply) throws {
        switch try RedisClient.checked(reply) {
        case .integer(0): self = .duplicate
        // The script's 1, or a plain LPUSH's new list length.
        case .integer(let n) where n > 0: self = .queued
        case .array(let parts) where parts.first == .integer(1): self = .queued
        case .array(let parts) where parts.first == .integer(0) && parts.count == 2: self = .busy(holder: parts[1].string ?? "")
        case let other: throw RedisError.protocolError("unexpected reply to a queue push: \(other)")
        }
    }
}
