/// What the operations console and the admin CLI do to a queue's dead letters and delayed jobs,
/// chosen by job id. ``JobQueue`` does each in one Lua script; ``MemoryJobQueue`` does the same in
/// memory, so one contract test holds both to the same answers (Tests/JobQueueTests).
///
/// Not here: erasing a booking's jobs (``JobQueue/removeEntries(_:from:sorted:)``) works on Redis
/// keys and the exact bytes read from them, so it has no meaning for a queue kept in memory.
public protocol QueueOperationsDriver: Sendable {
    /// The newest `limit` dead letters, newest first; unreadable ones left out.
    func deadLetters(limit: Int) async throws -> [DeadLetter]
    /// Puts the dead letters with these job ids back on their waiting lists, attempts reset and
    /// the envelope otherwise unchanged; returns how many went back.
    func replayDeadLetters(ids: [String]) async throws -> Int
    /// Deletes the dead letters with these job ids; returns how many there were.
    func purgeDeadLetters(ids: [String]) async throws -> Int
    /// The delayed set, soonest first (at most `limit`).
    func delayedJobs(limit: Int) async throws -> [DelayedJob]
    /// Moves the delayed job with this id to its waiting list now, as it is (its attempts stay
    /// counted); false when it is no longer delayed.
    func retryNow(id: String) async throws -> Bool
}

/// A job waiting for its retry, and when it is due (ms since 1970).
public struct DelayedJob: Sendable, Equatable {
    public let envelope: JobEnvelope
    public let dueAt: Int64
}
