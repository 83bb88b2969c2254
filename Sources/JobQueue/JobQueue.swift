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
    public let keys: QueueKeys

    public init(redis: RedisClient, keys: QueueKeys) {
        self.redis = redis
        self.keys = keys
    }

    // MARK: Producers

    /// Appends the push of `envelope` onto its waiting list to `pipeline`.
    public func appendPush(_ envelope: JobEnvelope, to pipeline: inout RedisPipeline) {
        pipeline.append(RedisCommand("LPUSH", keys.waitingList(for: envelope.kind), envelope.encoded()))
    }

    /// Appends a push that happens once per `eventID` within `windowSeconds`: the seen-marker and
    /// the push are one script. Its reply reads as ``PushOutcome/queued`` or ``PushOutcome/duplicate``.
    public func appendPush(
        _ envelope: JobEnvelope, oncePer eventID: String, windowSeconds: Int, marking subject: String = "1", to pipeline: inout RedisPipeline
    ) {
        pipeline.append(
            QueueScripts.pushOnce, keys: [keys.waitingList(for: envelope.kind), keys.seen(eventID)],
            arguments: [envelope.encoded(), windowSeconds, subject])
    }

    /// What the first delivery of `eventID` was about, and how many deliveries of it the ingress
    /// stopped since, while the de-duplication window remembers it.
    public func seenEvent(_ eventID: String) async throws -> SeenEvent? {
        try await redis.get(keys.seen(eventID)).map { SeenEvent(marker: String(decoding: $0, as: UTF8.self)) }
    }

    /// What the first delivery of `eventID` was about (the subject its push marked), while the
    /// de-duplication window remembers it.
    public func subject(ofEvent eventID: String) async throws -> String? {
        try await seenEvent(eventID)?.subject
    }

    /// Appends a push that holds `bookingID`'s command lock (one command in flight per booking) and
    /// writes the job's first `status`, both for `ttlSeconds`. Its reply reads as
    /// ``PushOutcome/queued`` or ``PushOutcome/busy(holder:)``.
    public func appendPush(
        _ envelope: JobEnvelope, holdingCommandLockOf bookingID: String, status: [UInt8], ttlSeconds: Int, to pipeline: inout RedisPipeline
    ) {
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
    public func push(_ envelope: JobEnvelope) async throws {
        var pipeline = RedisPipeline()
        appendPush(envelope, to: &pipeline)
        _ = try RedisClient.checked(try await redis.execute(pipeline)[0])
    }

    // MARK: JobQueueDriver

    public func fetch(from queue: QueueName, laneID: String, maxBatch: Int, blockTimeout: Duration) async throws -> [FetchedJob] {
        let source = keys.waitingList(queue)
        let processing = keys.processing(laneID)
        // The count of what is left, in the same round trip, tells whether a batch is worth a second
        // one: a job that came alone costs no empty `LMOVE`.
        let (moved, left) = try await redis.blmoveCounting(from: source, to: processing, timeout: blockTimeout)
        guard let first = moved else { return [] }
        var raws = [first]
        if maxBatch > 1 && left > 0 {
            let more = try await redis.eval(QueueScripts.moveUpTo, keys: [source, processing], arguments: [min(left, maxBatch - 1)])
            raws += more.array?.compactMap(\.bytes) ?? []
        }
        return raws.map(FetchedJob.init(raw:))
    }

    public func acknowledge(_ jobs: [FetchedJob], laneID: String) async throws {
        guard !jobs.isEmpty else { return }
        var pipeline = RedisPipeline()
        for job in jobs { pipeline.append("LREM", keys.processing(laneID), -1, job.raw) }
        _ = try await redis.execute(pipeline)
    }

    @discardableResult
    public func moveToDelayed(_ job: FetchedJob, envelope: JobEnvelope, dueAt: Int64, laneID: String) async throws -> Bool {
        try await redis.eval(
            QueueScripts.moveToDelayed, keys: [keys.processing(laneID), keys.delayed],
            arguments: [job.raw, envelope.encoded(), Int(dueAt)]
        ).int == 1
    }

    @discardableResult
    public func moveToDead(_ job: FetchedJob, letter: DeadLetter, laneID: String) async throws -> Bool {
        try await redis.eval(
            QueueScripts.moveToDead, keys: [keys.processing(laneID), keys.dead],
            arguments: [job.raw, Array(try JSONEncoder().encode(letter))]
        ).int == 1
    }

    @discardableResult
    public func promoteDue(now: Int64 = JobEnvelope.nowMilliseconds(), limit: Int = 500) async throws -> Int {
        try await redis.eval(QueueScripts.promote, keys: [keys.delayed, keys.webhooks, keys.commands], arguments: [Int(now), limit]).int ?? 0
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
