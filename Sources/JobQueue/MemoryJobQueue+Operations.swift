/// The operator actions over the in-memory lists, answering as the Redis scripts do
/// (``QueueScripts/replaySelected``, ``QueueScripts/purgeSelected``, ``QueueScripts/retryNow``).
/// A waiting list's end is its oldest job, so a push appends, like the scripts' `LPUSH`.
extension MemoryJobQueue: QueueOperationsDriver {
    public func deadLetters(limit: Int = 50) async throws -> [DeadLetter] {
        state.withLock { Array($0.dead.prefix(max(0, limit))) }
    }

    public func replayDeadLetters(ids: [String]) async throws -> Int {
        let wanted = Set(ids)
        return state.withLock { state in
            // Newest first, as the script walks `LRANGE dead 0 -1`.
            let chosen = state.dead.filter { wanted.contains($0.job.id) }
            state.dead.removeAll { wanted.contains($0.job.id) }
            for letter in chosen {
                let job = letter.job.replayed
                state.waiting[job.kind.queue, default: []].append(job.encoded())
            }
            return chosen.count
        }
    }

    public func purgeDeadLetters(ids: [String]) async throws -> Int {
        let wanted = Set(ids)
        return state.withLock { state in
            let before = state.dead.count
            state.dead.removeAll { wanted.contains($0.job.id) }
            return before - state.dead.count
        }
    }

    public func delayedJobs(limit: Int = 500) async throws -> [DelayedJob] {
        state.withLock { state in
            Self.soonestFirst(state.delayed).prefix(max(0, limit)).compactMap { entry in
                (try? JobEnvelope.decode(entry.raw)).map { DelayedJob(envelope: $0, dueAt: entry.dueAt) }
            }
        }
    }

    public func retryNow(id: String) async throws -> Bool {
        state.withLock { state in
            guard let entry = Self.soonestFirst(state.delayed).first(where: { (try? JobEnvelope.decode($0.raw))?.id == id }) else { return false }
            state.delayed.removeAll { $0.raw == entry.raw }
            state.waiting[Self.queue(of: entry.raw), default: []].append(entry.raw)
            return true
        }
    }

    /// The delayed set in the sorted set's order: by due time, then by bytes.
    static func soonestFirst(_ delayed: [(dueAt: Int64, raw: [UInt8])]) -> [(dueAt: Int64, raw: [UInt8])] {
        delayed.sorted { $0.dueAt != $1.dueAt ? $0.dueAt < $1.dueAt : $0.raw.lexicographicallyPrecedes($1.raw) }
    }
}
