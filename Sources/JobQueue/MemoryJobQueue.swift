import Foundation
import Synchronization

/// A ``JobQueueDriver`` kept in this process' memory, with the same semantics as ``JobQueue``
/// (processing lists, delayed retries, dead letters, heartbeats and reaping), for fast tests of
/// the worker's lane and retry logic without a Redis server. Nothing survives the process, so it
/// is never a production queue.
public final class MemoryJobQueue: JobQueueDriver {
    /// Internal, not private: the operator actions live in MemoryJobQueue+Operations.swift.
    struct State {
        var waiting: [QueueName: [[UInt8]]] = [:]
        var processing: [String: [[UInt8]]] = [:]
        var delayed: [(dueAt: Int64, raw: [UInt8])] = []
        /// Newest first, as `admin dead-letters` lists them.
        var dead: [DeadLetter] = []
        var heartbeats: [String: ContinuousClock.Instant] = [:]
    }

    let state = Mutex(State())
    /// How often a waiting `fetch` looks again.
    private let pollInterval: Duration

    public init(pollInterval: Duration = .milliseconds(1)) {
        self.pollInterval = pollInterval
    }

    // MARK: Producers and inspection (tests)

    public func push(_ envelope: JobEnvelope) {
        push(raw: envelope.encoded(), to: envelope.kind.queue)
    }

    /// Pushes bytes as they are, e.g. something that is not an envelope.
    public func push(raw: [UInt8], to queue: QueueName) {
        state.withLock { $0.waiting[queue, default: []].append(raw) }
    }

    public var deadLetters: [DeadLetter] { state.withLock { $0.dead } }
    public var delayed: [(dueAt: Int64, envelope: JobEnvelope?)] {
        state.withLock { $0.delayed.map { ($0.dueAt, try? JobEnvelope.decode($0.raw)) } }
    }
    public func held(by laneID: String) -> Int { state.withLock { $0.processing[laneID]?.count ?? 0 } }
    public var registeredWorkers: [String] { state.withLock { $0.heartbeats.keys.sorted() } }

    // MARK: JobQueueDriver

    /// One shard: the in-memory queue has no slots to spread over.
    public var shardCount: Int { 1 }

    public func fetch(from queue: QueueName, shard: Int, laneID: String, maxBatch: Int, blockTimeout: Duration) async throws -> [FetchedJob] {
        let deadline = ContinuousClock.now + blockTimeout
        while true {
            let taken = state.withLock { state -> [[UInt8]] in
                let jobs = Array((state.waiting[queue] ?? []).prefix(max(1, maxBatch)))
                state.waiting[queue]?.removeFirst(jobs.count)
                state.processing[laneID, default: []].append(contentsOf: jobs)
                return jobs
            }
            if !taken.isEmpty { return taken.map { FetchedJob(raw: $0) } }
            if ContinuousClock.now >= deadline { return [] }
            try await Task.sleep(for: pollInterval)
        }
    }

    public func acknowledge(_ jobs: [FetchedJob], laneID: String) async throws {
        state.withLock { state in
            for job in jobs { Self.remove(job.raw, from: &state.processing[laneID]) }
        }
    }

    @discardableResult
    public func moveToDelayed(_ job: FetchedJob, envelope: JobEnvelope, dueAt: Int64, laneID: String) async throws -> Bool {
        let raw = envelope.encoded()
        return state.withLock { state in
            guard Self.remove(job.raw, from: &state.processing[laneID]) else { return false }
            state.delayed.append((dueAt, raw))
            return true
        }
    }

    @discardableResult
    public func moveToDead(_ job: FetchedJob, letter: DeadLetter, laneID: String) async throws -> Bool {
        state.withLock { state in
            guard Self.remove(job.raw, from: &state.processing[laneID]) else { return false }
            state.dead.insert(letter, at: 0)
            return true
        }
    }

    public func promoteDue(now: Int64, limit: Int) async throws -> Int {
        state.withLock { state in
            let due = Self.soonestFirst(state.delayed).filter { $0.dueAt <= now }.prefix(limit)
            for job in due {
                state.delayed.removeAll { $0.raw == job.raw }
                state.waiting[Self.queue(of: job.raw), default: []].append(job.raw)
            }
            return due.count
        }
    }

    public func heartbeat(laneIDs: [String], ttl: Duration) async throws {
        let expiry = ContinuousClock.now + ttl
        state.withLock { state in
            for laneID in laneIDs { state.heartbeats[laneID] = expiry }
        }
    }

    public func returnHeld(laneID: String, inShard shard: Int) async throws -> Int {
        try await returnHeld(laneID: laneID)
    }

    public func returnHeld(laneID: String) async throws -> Int {
        state.withLock { Self.handBack(laneID, countingAttempt: nil, in: &$0) }
    }

    public func deregister(laneID: String) async throws {
        state.withLock { state in
            _ = Self.handBack(laneID, countingAttempt: nil, in: &state)
            state.heartbeats[laneID] = nil
        }
    }

    public func reap(lockTTL: Duration) async throws -> Int? {
        let now = ContinuousClock.now
        return state.withLock { state in
            var recovered = 0
            for (laneID, expiry) in state.heartbeats where expiry <= now {
                recovered += Self.handBack(laneID, countingAttempt: JobEnvelope.crashNote(laneID: laneID), in: &state)
                state.heartbeats[laneID] = nil
            }
            return recovered
        }
    }

    public func depths() async throws -> QueueDepths {
        state.withLock { state in
            QueueDepths(
                webhooks: state.waiting[.webhooks]?.count ?? 0, commands: state.waiting[.commands]?.count ?? 0,
                delayed: state.delayed.count, dead: state.dead.count)
        }
    }

    // MARK: Helpers

    /// Moves a worker's processing list back to the front of the waiting lists; with a note, the
    /// interrupted attempt counts.
    private static func handBack(_ laneID: String, countingAttempt note: String?, in state: inout State) -> Int {
        let held = state.processing.removeValue(forKey: laneID) ?? []
        for raw in held {
            // Unreadable bytes go back as they are, as the recover script leaves them.
            let counted = note.flatMap { note in FetchedJob(raw: raw).envelope?.countingAttempt(lastError: note).encoded() }
            state.waiting[queue(of: counted ?? raw), default: []].insert(counted ?? raw, at: 0)
        }
        return held.count
    }

    static func queue(of raw: [UInt8]) -> QueueName {
        (try? JobEnvelope.decode(raw))?.kind.queue ?? .commands
    }

    /// Whether `raw` was there to remove.
    @discardableResult
    static func remove(_ raw: [UInt8], from list: inout [[UInt8]]?) -> Bool {
        guard let index = list?.firstIndex(of: raw) else { return false }
        list?.remove(at: index)
        return true
    }
}
