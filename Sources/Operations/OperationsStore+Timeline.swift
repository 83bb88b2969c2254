import Foundation
import JobQueue
import RedisClient
import TrackingCore

extension OperationsStore {
    /// A timeline search's answer: the booking it found and everything that happened to it.
    public struct TimelineAnswer: Sendable, Equatable, Codable {
        public var bookingId: String
        /// How the query named it: `code`, `booking` or `event`.
        public var foundBy: String
        public var status: String?
        public var code: String?
        public var entries: [TimelineEntry]
    }

    /// One timeline entry for display: a webhook delivery seen before is marked deduplicated
    /// (the ingress pushes an event id once per window, and so the console reads it back).
    public struct TimelineEntry: Sendable, Equatable, Codable {
        public var at: Int64
        public var type: String
        public var fields: [String: String]
    }

    /// Finds a booking by tracking code, Booxi booking id, or webhook event id (while the
    /// de-duplication window remembers it), and reads its timeline; nil when nothing matches.
    public func timeline(for query: String) async throws -> TimelineAnswer? {
        let query = query.trimmingCharacters(in: .whitespaces)
        guard !query.isEmpty else { return nil }
        var found: (String, String)?
        if let code = TrackingCode(query), let record = try await mappings.resolve(code) {
            found = (record.bookingID, "code")
        } else if try await mappings.record(bookingID: query) != nil {
            found = (query, "booking")
        } else if try await !timeline.read(bookingID: query, using: redis).isEmpty {
            found = (query, "booking")
        } else if let subject = try await queue.subject(ofEvent: query), subject != "1" {
            found = (subject, "event")
        }
        guard let (bookingID, foundBy) = found else { return nil }
        let record = try await mappings.record(bookingID: bookingID)
        var seenEvents = Set<String>()
        let entries = try await timeline.read(bookingID: bookingID, using: redis).map { entry in
            var fields = entry.fields
            fields["at"] = nil
            if entry.type == "webhook", let eventID = fields["eventId"], !eventID.isEmpty {
                fields["deduplicated"] = seenEvents.insert(eventID).inserted ? "no" : "yes"
            }
            return TimelineEntry(at: entry.at, type: entry.type, fields: fields)
        }
        return TimelineAnswer(
            bookingId: bookingID, foundBy: foundBy, status: record?.status, code: record.map { BookingTimeline.mask($0.code) }, entries: entries)
    }

    /// What an erase removed.
    public struct Erasure: Sendable, Equatable, Codable {
        public var bookingId: String
        /// Keys deleted: the record, code keys, retired set, timeline, command records and replies.
        public var keysDeleted: Int
        public var jobsRemoved: Int
        /// Commands whose status record (and reply) went.
        public var jobRecordsDeleted: Int
    }

    /// Erases a booking's personal data everywhere it is kept: its record (with the cached
    /// booking), its current and retired code keys, its timeline, its pending fetches, every
    /// waiting, delayed and dead job that mentions it, and its commands' status records. The record
    /// is left holding only `erased` (no personal data), which keeps a late webhook from bringing it
    /// back; the code answers 404 from now on.
    public func erase(bookingID: String) async throws -> Erasure {
        let keys = mappings.keys
        let record = try await mappings.record(bookingID: bookingID)
        let retired = try await redis.send("SMEMBERS", keys.retired(bookingID)).array?.compactMap(\.string) ?? []
        let codes = ([record?.code].compactMap { $0 } + retired)
        let jobsRemoved = try await queue.removeJobs(mentioning: [bookingID] + codes)
        // Command status records name the code they came through by its log id.
        let owners = Set(codes.compactMap { TrackingCode($0)?.logID })
        var jobRecords: [String] = []
        var cursor = "0"
        repeat {
            let reply = try await redis.send("SCAN", cursor, "MATCH", queue.keys.job("*"), "COUNT", 1000).array ?? []
            cursor = reply.first?.string ?? "0"
            let found = reply.dropFirst().first?.array?.compactMap(\.string) ?? []
            if !found.isEmpty && !owners.isEmpty {
                var pipeline = RedisPipeline()
                for key in found { pipeline.append("GET", key) }
                for (key, value) in zip(found, try await redis.execute(pipeline)) {
                    guard let text = value.string, owners.contains(where: { text.contains("\"owner\":\"\($0)\"") }) else { continue }
                    // The status record and the reply a waiting API request reads (both may hold a cancel's note).
                    jobRecords += [key, queue.keys.jobReplies(String(key.dropFirst(queue.keys.job("").count)))]
                }
            }
        } while cursor != "0"
        var pipeline = RedisPipeline()
        pipeline.append(RedisCommand("DEL", [keys.booking(bookingID), keys.retired(bookingID), keys.timeline(bookingID)] + codes.map { keys.codePrefix + $0 } + jobRecords))
        for fetches in BookingFetches.classes.map(keys.fetches) { pipeline.append("ZREM", fetches, bookingID) }
        // The record becomes the erased mark: the apply script reads it with the fields it reads anyway.
        pipeline.append("HSET", keys.booking(bookingID), "erased", "1")
        pipeline.append("EXPIRE", keys.booking(bookingID), mappings.retentionSeconds)
        let replies = try await redis.execute(pipeline)
        return Erasure(
            bookingId: bookingID, keysDeleted: replies[0].int ?? 0, jobsRemoved: jobsRemoved, jobRecordsDeleted: jobRecords.count / 2)
    }
}
