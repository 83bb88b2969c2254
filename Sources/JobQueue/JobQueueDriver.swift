/// What a worker needs from a queue, in the style of swift-jobs' `JobQueueDriver`: the seam
/// between the worker's lanes and housekeeping and where jobs are kept. ``JobQueue`` keeps them in
/// Redis; ``MemoryJobQueue`` in memory, for fast tests of lane and retry logic.
///
/// A driver only stores: what a retry schedules and what a dead letter holds are computed once, by
/// ``FetchedJob``, and the worker's decisions (``retry(_:laneID:dueAt:error:)``,
/// ``settleFailedAttempt(_:laneID:error:retryAfter:policy:)`` and the rest) live in the
/// extension in `JobQueueDriver+Bookkeeping.swift`.
///
/// Every job a worker takes stays in its processing list until acknowledged, retried or
/// dead-lettered, so a crash loses nothing (docs/architecture.md §4).
public protocol JobQueueDriver: Sendable {
    /// How many queue shards there are (`queue.shards`); a worker's lanes drain every one.
    var shardCount: Int { get }
    /// Waits up to `blockTimeout` for a job on `queue` in `shard`, then takes up to `maxBatch - 1`
    /// more without blocking, all into `laneID`'s processing list of that shard. A zero
    /// `blockTimeout` takes only what is there. Cancellation ends the wait.
    func fetch(from queue: QueueName, shard: Int, laneID: String, maxBatch: Int, blockTimeout: Duration) async throws -> [FetchedJob]
    /// Removes finished jobs from the processing list.
    func acknowledge(_ jobs: [FetchedJob], laneID: String) async throws
    /// Replaces `job` in `laneID`'s processing list by `envelope` in the delayed set, due at
    /// `dueAt` (ms since 1970), atomically. Only a job still held moves: one handed back meanwhile
    /// (reaper, grace period, erase) is not brought back. Returns whether it moved.
    @discardableResult
    func moveToDelayed(_ job: FetchedJob, envelope: JobEnvelope, dueAt: Int64, laneID: String) async throws -> Bool
    /// Replaces `job` in `laneID`'s processing list by `letter` at the head of the dead letters,
    /// atomically; only a job still held moves, as above. Returns whether it moved.
    @discardableResult
    func moveToDead(_ job: FetchedJob, letter: DeadLetter, laneID: String) async throws -> Bool
    /// Moves delayed jobs whose time has come back to their waiting lists; returns how many.
    func promoteDue(now: Int64, limit: Int) async throws -> Int
    /// Marks the workers alive for `ttl`.
    func heartbeat(laneIDs: [String], ttl: Duration) async throws
    /// A live lane that lost track of what it held hands it back, without counting an attempt.
    func returnHeld(laneID: String) async throws -> Int
    /// The same in one shard only: a lane whose look at another shard failed returns what that
    /// look may have moved, once the shard answers again.
    func returnHeld(laneID: String, inShard shard: Int) async throws -> Int
    /// A worker that stops cleanly hands back what it holds and leaves the registry.
    func deregister(laneID: String) async throws
    /// Recovers the jobs of workers whose heartbeat expired, counting the interrupted attempt
    /// (its last error ``JobEnvelope/crashNote(laneID:)``); nil when another process is reaping.
    func reap(lockTTL: Duration) async throws -> Int?
    func depths() async throws -> QueueDepths
}

extension JobQueueDriver {
    /// ``fetch(from:shard:laneID:maxBatch:blockTimeout:)`` from the first (or only) shard.
    public func fetch(from queue: QueueName, laneID: String, maxBatch: Int, blockTimeout: Duration) async throws -> [FetchedJob] {
        try await fetch(from: queue, shard: 0, laneID: laneID, maxBatch: maxBatch, blockTimeout: blockTimeout)
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
