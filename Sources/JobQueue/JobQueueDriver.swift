/// What a worker needs from a queue, in the style of swift-jobs' `JobQueueDriver`: the seam
/// between the worker's lanes and housekeeping and where jobs are kept. ``JobQueue`` keeps them in
/// Redis; ``MemoryJobQueue`` in memory, for fast tests of lane and retry logic.
///
/// Every job a worker takes stays in its processing list until acknowledged, retried or
/// dead-lettered, so a crash loses nothing (docs/architecture.md §4).
public protocol JobQueueDriver: Sendable {
    /// Waits up to `blockTimeout` for a job on `queue`, then takes up to `maxBatch - 1` more
    /// without blocking, all into `workerID`'s processing list. Cancellation ends the wait.
    func fetch(from queue: QueueName, workerID: String, maxBatch: Int, blockTimeout: Duration) async throws -> [FetchedJob]
    /// Removes finished jobs from the processing list.
    func acknowledge(_ jobs: [FetchedJob], workerID: String) async throws
    /// Schedules another attempt at `dueAt` (ms since 1970), counting this one, atomically with
    /// leaving the processing list.
    func retry(_ job: FetchedJob, workerID: String, dueAt: Int64, error: String) async throws
    /// Moves a job to the dead letters with why it failed, atomically with leaving the processing list.
    func deadLetter(_ job: FetchedJob, workerID: String, reason: String, lastError: String?) async throws
    /// Moves delayed jobs whose time has come back to their waiting lists; returns how many.
    func promoteDue(now: Int64, limit: Int) async throws -> Int
    /// Marks the workers alive for `ttl`.
    func heartbeat(workerIDs: [String], ttl: Duration) async throws
    /// A live lane that lost track of what it held hands it back, without counting an attempt.
    func returnHeld(workerID: String) async throws -> Int
    /// A worker that stops cleanly hands back what it holds and leaves the registry.
    func deregister(workerID: String) async throws
    /// Recovers the jobs of workers whose heartbeat expired, counting the interrupted attempt;
    /// nil when another process is reaping.
    func reap(lockTTL: Duration) async throws -> Int?
    func depths() async throws -> QueueDepths
}

/// A job taken from a waiting list, as its raw bytes (needed to remove exactly it from the
/// processing list) and decoded.
public struct FetchedJob: Sendable {
    public let raw: [UInt8]
    /// Nil when the bytes are not an envelope: the worker dead-letters it rather than losing it.
    public let envelope: JobEnvelope?

    public init(raw: [UInt8]) {
        self.raw = raw
        self.envelope = try? JobEnvelope.decode(raw)
    }

    /// The envelope to keep when this job is retried or dead-lettered: unreadable bytes are kept
    /// as the payload of an `unreadable` job.
    var keptEnvelope: JobEnvelope {
        envelope ?? JobEnvelope(kind: .unreadable, payload: String(decoding: raw, as: UTF8.self))
    }
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
