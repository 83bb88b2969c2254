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

    /// One timeline entry for display. A webhook delivery shows how many more deliveries of the
    /// same event the ingress stopped (`duplicates`), while the de-duplication window remembers it.
    public struct TimelineEntry: Sendable, Equatable, Codable {
        public var at: Int64
        public var type: String
        public var fields: [String: String]
    }

    /// Finds a booking by tracking code or Booxi booking id (``resolve(_:)``), else by webhook event
    /// id (while the de-duplication window remembers it), and reads its timeline; nil when nothing
    /// matches. Throws ``OperatorActionError/ambiguousBooking(byCode:byBookingID:)`` when the text
    /// is a code of one booking and the id of another.
    public func timeline(for query: String) async throws -> TimelineAnswer? {
        let query = query.trimmingCharacters(in: .whitespaces)
        guard !query.isEmpty else { return nil }
        let bookingID: String, foundBy: String
        switch try await resolve(.codeOrBookingID(query)) {
        case .found(let id, let by):
            (bookingID, foundBy) = (id, by.rawValue)
        case .ambiguous(let byCode, let byBookingID):
            throw OperatorActionError.ambiguousBooking(byCode: byCode, byBookingID: byBookingID)
        case .notFound:
            guard let subject = try await queue.subject(ofEvent: query), subject != "1" else { return nil }
            (bookingID, foundBy) = (subject, "event")
        }
        let record = try await mappings.record(bookingID: bookingID)
        var entries: [TimelineEntry] = []
        for entry in try await timeline.read(bookingID: bookingID, using: redis) {
            var fields = entry.fields
            if entry.type == BookingTimeline.EntryType.webhook.rawValue, let eventID = fields["eventId"], !eventID.isEmpty,
                let seen = try await queue.seenEvent(eventID, ofBooking: bookingID)
            {
                fields["duplicates"] = seen.duplicates >= SeenEvent.maxCounted ? "\(seen.duplicates)+" : String(seen.duplicates)
            }
            entries.append(TimelineEntry(at: entry.at, type: entry.type, fields: fields))
        }
        return TimelineAnswer(
            bookingId: bookingID, foundBy: foundBy, status: record?.status, code: record.map { BookingTimeline.mask($0.code) }, entries: entries)
    }
}
