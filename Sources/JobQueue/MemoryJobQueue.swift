import Foundation
import Synchronization

/// A ``JobQueueDriver`` kept in this process' memory, with the same semantics as ``JobQueue``
/// (processing lists, delayed retries, dead letters, heartbeats and reaping), for fast tests of
/// the worker's lane and retry logic without a Redis server. Nothing survives the process, so it
/// is never a production queue.
public final class MemoryJobQueue: JobQueueDriver {
    private struct State {
        var waiting: [QueueName: [[UInt8]]] = [:]
        var processing: [String: [[UInt8]]] = [:]
        var delayed: [(dueAt: Int64, raw: [UInt8])] = []
        /// Newest first, as `admin dead-letters` lists them.
        var dead: [DeadLetter] = []
        var heartbeats: [String: ContinuousClock.Instant] = [:]
    }

    private let state = Mutex(State())
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
    public func held(by workerID: String) -> Int { state.withLock { $0.processing[workerID]?.count ?? 0 } }
    public var registeredWorkers: [String] { state.withLock { $0.heartbeats.keys.sorted() } }

    // MARK: JobQueueDriver

    public func fetch(from queue: QueueName, workerID: String, maxBatch: Int, blockTimeout: Duration) async throws -> [FetchedJob] {
        let deadline = ContinuousClock.now + blockTimeout
        while true {
            let taken = state.withLock { state -> [[UInt8]] in
                let jobs = Array((state.waiting[queue] ?? []).prefix(max(1, maxBatch)))
                state.waiting[queue]?.removeFirst(jobs.count)
                state.processing[workerID, default: []].append(contentsOf: jobs)
                return jobs
            }
            if !taken.isEmpty { return taken.map(FetchedJob.init(raw:)) }
            if ContinuousClock.now >= deadline { return [] }
            try await Task.sleep(for: pollInterval)
        }
    }

    public func acknowledge(_ jobs: [FetchedJob], workerID: String) async throws {
        state.withLock { state in
            for job in jobs { Self.remove(job.raw, from: &state.processing[workerID]) }
        }
    }

    public func retry(_ job: FetchedJob, workerID: String, dueAt: Int64, error: String) async throws {
        var envelope = job.keptEnvelope
        envelope.attempt += 1
        envelope.lastError = error
        let raw = envelope.encoded()
        state.withLock { state in
            Self.remove(job.raw, from: &state.processing[workerID])
            state.delayed.append((dueAt, raw))
        }
    }

    public func deadLetter(_ job: FetchedJob, workerID: String, reason: String, lastError: String?) async throws {
        let envelope = job.keptEnvelope
        let letter = DeadLetter(job: envelope, reason: reason, attempts: envelope.attempt + 1, lastError: lastError ?? envelope.lastError)
        state.withLock { state in
            Self.remove(job.raw, from: &state.processing[workerID])
            state.dead.insert(letter, at: 0)
        }
    }

    public func promoteDue(now: Int64, limit: Int) async throws -> Int {
        state.withLock { state in
            let due = state.delayed.filter { $0.dueAt <= now }.sorted { $0.dueAt < $1.dueAt }.prefix(limit)
            for job in due {
                state.delayed.removeAll { $0.raw == job.raw }
                state.waiting[Self.queue(of: job.raw), default: []].append(job.raw)
            }
            return due.count
        }
    }

    public func heartbeat(workerIDs: [String], ttl: Duration) async throws {
        let expiry = ContinuousClock.now + ttl
        state.withLock { state in
            for workerID in workerIDs { state.heartbeats[workerID] = expiry }
        }
    }

    public func returnHeld(workerID: String) async throws -> Int {
        state.withLock { Self.handBack(workerID, countingAttempt: nil, in: &$0) }
    }

    public func deregister(workerID: String) async throws {
        state.withLock { state in
            _ = Self.handBack(workerID, countingAttempt: nil, in: &state)
            state.heartbeats[workerID] = nil
        }
    }

    public func reap(lockTTL: Duration) async throws -> Int? {
        let now = ContinuousClock.now
        return state.withLock { state in
            var recovered = 0
            for (workerID, expiry) in state.heartbeats where expiry <= now {
                recovered += Self.handBack(workerID, countingAttempt: "worker \(workerID) stopped without finishing (crash)", in: &state)
                state.heartbeats[workerID] = nil
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
    private static func handBack(_ workerID: String, countingAttempt note: String?, in state: inout State) -> Int {
        let held = state.processing.removeValue(forKey: workerID) ?? []
        for raw in held {
            var raw = raw
            if let note, var envelope = try? JobEnvelope.decode(raw) {
                envelope.attempt += 1
                envelope.lastError = note
                raw = envelope.encoded()
            }
            state.waiting[queue(of: raw), default: []].insert(raw, at: 0)
        }
        return held.count
    }

    private static func queue(of raw: [UInt8]) -> QueueName {
        (try? JobEnvelope.decode(raw))?.kind.queue ?? .commands
    }

    private static func remove(_ raw: [UInt8], from list: inout [[UInt8]]?) {
        if let index = list?.firstIndex(of: raw) { list?.remove(at: index) }
    }
}
