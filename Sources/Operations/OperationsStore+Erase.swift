import Foundation
import JobQueue
import RedisClient
import TrackingCore

extension OperationsStore {
    /// What an erase removed.
    public struct Erasure: Sendable, Equatable, Codable {
        public var bookingId: String
        /// Keys deleted: the record, code keys, retired set, timeline, command records and replies.
        public var keysDeleted: Int
        public var jobsRemoved: Int
        /// Queued jobs and dead letters read to find them.
        public var jobsExamined: Int
        /// Commands whose status record (and reply) went.
        public var jobRecordsDeleted: Int
    }

    /// How far an erase has read one list (or the delayed set), reported after each window.
    public struct EraseProgress: Sendable, Equatable {
        /// `webhooks`, `commands`, `processing <worker>`, `delayed` or `dead`.
        public var list: String
        public var examined: Int
        /// Its length when the erase began reading it.
        public var total: Int
        public var removed: Int
    }

    /// Entries read per round trip: a window costs one `LRANGE` (or `ZSCAN`) and, when it holds any
    /// of the booking's jobs, one script that removes those entries, so Redis never runs one long
    /// command over the whole queue.
    static let eraseWindow = 500

    /// Erases a booking's personal data everywhere it is kept. First, in one script over the
    /// booking's keys (one slot): its record (with the cached booking), its current and retired code
    /// keys, its timeline, its pending fetches; the record is left holding only `erased` (no personal
    /// data), which keeps a late webhook from bringing it back, and the code answers 404 from now on.
    /// Then its commands' status records, and every waiting, processing, delayed and dead job that is
    /// the booking's (``ErasureMatch``), read in windows with `progress` after each.
    /// Operators reach it through ``OperatorActions/erase(_:who:progress:)``, which audits it.
    func erase(
        bookingID: String, progress: @Sendable (EraseProgress) async -> Void = { _ in }
    ) async throws -> Erasure {
        let keys = mappings.keys
        let sharedSlot = keys.codesShareTheRecordsSlot
        let reply =
            try await redis.eval(
                Self.eraseBooking,
                keys: [keys.booking(bookingID), keys.retired(bookingID), keys.timeline(bookingID)]
                    + (sharedSlot ? BookingFetches.classes.map(keys.fetches) : []),
                arguments: [bookingID, sharedSlot ? mappings.codePrefix : "", mappings.retentionSeconds]
            ).array ?? []
        let codes = reply.dropFirst().compactMap(\.string)
        // Per booking (Redis Cluster), the code keys and fetch queues are in other slots. A crash
        // before this leaves code keys naming an erased record: they answer 404 and go on a lookup.
        let codeKeysDeleted = sharedSlot ? 0 : try await mappings.dropCodeKeys(codes, of: bookingID)
        let jobRecords = try await deleteCommandRecords(owners: Set(codes.compactMap { TrackingCode($0)?.logID }))
        let (examined, removed) = try await removeJobs(ErasureMatch(bookingID: bookingID, codes: codes), progress: progress)
        return Erasure(
            bookingId: bookingID, keysDeleted: (reply.first?.int ?? 0) + codeKeysDeleted + jobRecords.keys, jobsRemoved: removed,
            jobsExamined: examined,
            jobRecordsDeleted: jobRecords.commands)
    }

    /// KEYS: record, retired set, timeline, in one slot the fetch queues. ARGV: bookingId,
    /// code-key prefix (empty per booking: the caller deletes them), retention (s). Returns
    /// `{keys deleted, codes…}`. A code key goes only while it still names this booking: a code
    /// another booking holds now is that booking's.
    static let eraseBooking = RedisScript(
        """
        local codes = redis.call('SMEMBERS', KEYS[2])
        local current = redis.call('HGET', KEYS[1], 'code')
        if current then codes[#codes + 1] = current end
        local deleted = 0
        if ARGV[2] ~= '' then
          for _, code in ipairs(codes) do
            local key = ARGV[2] .. code
            if redis.call('GET', key) == ARGV[1] then deleted = deleted + redis.call('DEL', key) end
          end
        end
        deleted = deleted + redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
        for index = 4, #KEYS do redis.call('ZREM', KEYS[index], ARGV[1]) end
        redis.call('HSET', KEYS[1], 'erased', '1')
        redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
        local answer = {deleted}
        for _, code in ipairs(codes) do answer[#answer + 1] = code end
        return answer
        """)

    /// Deletes the status records (and replies, which may hold a cancel's note) of the commands
    /// that came through these codes, named by their log ids. Both keys of a command share its
    /// queue shard's slot, so each `DEL` stays in one slot.
    private func deleteCommandRecords(owners: Set<String>) async throws -> (commands: Int, keys: Int) {
        guard !owners.isEmpty else { return (0, 0) }
        var commands = 0, deleted = 0
        for keys in queue.shards.all {
            try await redis.scanKeys(matching: keys.job("*")) { found in
                var reads = RedisPipeline()
                for key in found { reads.append("GET", key) }
                var deletes = RedisPipeline()
                for (key, value) in zip(found, try await redis.execute(reads)) {
                    guard let text = value.string, owners.contains(where: { text.contains("\"owner\":\"\($0)\"") }) else { continue }
                    deletes.append("DEL", key, keys.jobReplies(String(key.dropFirst(keys.job("").count))))
                }
                commands += deletes.count
                deleted += try await redis.execute(deletes).reduce(0) { $0 + ($1.int ?? 0) }
            }
        }
        return (commands, deleted)
    }

    /// Reads the waiting lists, the workers' processing lists, the delayed set and the dead list,
    /// in the order jobs flow through them (so one that moves on while the erase reads is likely
    /// met again further on), and removes the booking's jobs by their exact bytes.
    private func removeJobs(
        _ match: ErasureMatch, progress: @Sendable (EraseProgress) async -> Void
    ) async throws -> (examined: Int, removed: Int) {
        let lanes = try await queue.workers().map(\.id)
        var examined = 0, removed = 0
        // A booking's jobs are in its shard, but a job pushed under another shard count, or
        // replayed by hand, may not be: every shard is read.
        for keys in queue.shards.all {
            let named = { (name: String) in queue.shards.count > 1 ? "\(name) (shard \(keys.shard))" : name }
            var lists = [(named("webhooks"), keys.webhooks), (named("commands"), keys.commands)]
            lists += lanes.map { (named("processing \($0)"), keys.processing($0)) }
            for (name, key) in lists {
                let counts = try await removeJobs(match, list: key, named: name, deadLetters: false, progress: progress)
                examined += counts.examined
                removed += counts.removed
            }
            let delayed = try await removeDelayedJobs(match, in: keys, named: named("delayed"), progress: progress)
            let dead = try await removeJobs(match, list: keys.dead, named: named("dead"), deadLetters: true, progress: progress)
            examined += delayed.examined + dead.examined
            removed += delayed.removed + dead.removed
        }
        return (examined, removed)
    }

    /// One list, a window at a time from the head. Pushes land at the head and only shift the
    /// windows onto entries already read; workers take from the tail, which shifts nothing before
    /// it; a removal shifts the rest back by one, which the next window's start allows for.
    private func removeJobs(
        _ match: ErasureMatch, list: String, named name: String, deadLetters: Bool, progress: @Sendable (EraseProgress) async -> Void
    ) async throws -> (examined: Int, removed: Int) {
        let total = try await redis.llen(list)
        var start = 0, examined = 0, removed = 0
        while total > 0 {
            let window = try await redis.lrange(list, start, start + Self.eraseWindow - 1)
            let hits = window.filter { match.matches($0, deadLetter: deadLetters) }
            let gone = try await queue.removeEntries(hits, from: list)
            examined += window.count
            removed += gone
            start += window.count - gone
            await progress(EraseProgress(list: name, examined: examined, total: total, removed: removed))
            if window.count < Self.eraseWindow { break }
        }
        return (examined, removed)
    }

    /// The delayed set through `ZSCAN`, which returns every member present for the whole scan at
    /// least once, whatever the promoter moves meanwhile.
    private func removeDelayedJobs(
        _ match: ErasureMatch, in keys: QueueKeys, named name: String, progress: @Sendable (EraseProgress) async -> Void
    ) async throws -> (examined: Int, removed: Int) {
        let delayed = keys.delayed
        let total = try await redis.send("ZCARD", delayed).int ?? 0
        var cursor = "0", examined = 0, removed = 0
        guard total > 0 else { return (0, 0) }
        repeat {
            let reply = try await redis.send("ZSCAN", delayed, cursor, "COUNT", Self.eraseWindow).array ?? []
            cursor = reply.first?.string ?? "0"
            // Member, score, member, score…
            let members = (reply.dropFirst().first?.array ?? []).enumerated().filter { $0.offset % 2 == 0 }.compactMap(\.element.bytes)
            let hits = members.filter { match.matches($0, deadLetter: false) }
            examined += members.count
            removed += try await queue.removeEntries(hits, from: delayed, sorted: true)
            await progress(EraseProgress(list: name, examined: examined, total: total, removed: removed))
        } while cursor != "0"
        return (examined, removed)
    }
}
