import BooxiModels
import Foundation
import Logging
import RedisClient
import TestSupport
import Testing
import TrackingCore
@testable import Worker

/// The background fetch queue over real Redis: requests collapse, move up, are superseded by a
/// fresh copy; the webhook handler asks for a prefetch exactly when a delivery lacks the details.
@Suite("Background booking fetches", .serialized)
struct BookingFetchesTests {
    func event(_ kind: WebhookEvent.EventType, _ bookingID: String, _ code: String, at time: Int64, details: String? = nil) throws -> WebhookEvent {
        let extra = details.map { ",\($0)" } ?? ""
        return try WebhookEvent(
            body: """
                {"event":"\(kind.rawValue)","timestamp":"\(ISO8601.format(Date(timeIntervalSince1970: Double(time) / 1000)))",
                 "booking":{"confirmationNumber":"\(bookingID)","status":"Approved"\(extra),
                   "client":{"firstName":"Al","trackingPage":{"viewURL":"https://book.booxi.com/tracking/\(code)"}}}}
                """)
    }

    @Test func duplicateAndSupersededRequestsCollapseIntoOne() async throws {
        let test = try WorkerTestCase()
        defer { Task { await test.finish() } }
        let fetches = BookingFetches(redis: test.redis, keys: MappingKeys())
        let mappings = test.mappings
        // The apply itself asks for the prefetch; asking again changes nothing.
        _ = try await mappings.apply(try event(.confirmed, "B1", "codeB1xx", at: 1_000), receivedAt: 0)
        #expect(try await fetches.counts() == [.visitor: 0, .prefetch: 1, .refresh: 0])
        for _ in 0..<3 { try await fetches.request("B1", .prefetch) }
        try await fetches.request("B1", .refresh)  // less urgent than the prefetch already queued: no-op
        #expect(try await fetches.counts() == [.visitor: 0, .prefetch: 1, .refresh: 0])
        try await fetches.request("B1", .visitor)  // a visitor waits: moved up
        #expect(try await fetches.counts() == [.visitor: 1, .prefetch: 0, .refresh: 0])
        #expect(try await fetches.mostUrgentDue() == .visitor)

        // Being fetched: no second fetch is queued meanwhile.
        let taken = try #require(try await fetches.next(fetchTimeout: .seconds(5)))
        #expect(taken.bookingID == "B1" && taken.callClass == .visitor && taken.version == 1_000)
        try await fetches.request("B1", .refresh)
        #expect(try await fetches.counts().values.reduce(0, +) == 0)
        // A copy fetched before a newer event is not stored; the event queued its own prefetch.
        let modified = try event(.modified, "B1", "codeB1xx", at: 2_000)
        #expect(try await mappings.apply(modified, receivedAt: 0) == .applied)
        #expect(try await fetches.counts()[.prefetch] == 1)
        #expect(
            try await mappings.storeBooking(bookingID: "B1", booking: Booking(bookingId: "B1"), status: nil, endsAt: nil, ifVersion: 1_000) == false)
        #expect(try await fetches.counts()[.prefetch] == 1)
        // A current copy: the queue forgets the booking, and a later prefetch request is superseded.
        #expect(try await mappings.storeBooking(bookingID: "B1", booking: Booking(bookingId: "B1"), status: nil, endsAt: nil, ifVersion: 2_000))
        try await fetches.request("B1", .prefetch)
        #expect(try await fetches.counts().values.reduce(0, +) == 0)
        #expect(try await fetches.next(fetchTimeout: .seconds(5)) == nil)
    }

    @Test func aDeliveryWithTheDetailsNeedsNoFetch() async throws {
        let test = try WorkerTestCase()
        defer { Task { await test.finish() } }
        let details =
            #""startsOn":"2030-05-01T14:00:00Z","totalClientTimespan":{"start":"2030-05-01T14:00:00Z","end":"2030-05-01T14:30:00Z","duration":30},"items":[{"serviceId":100,"serviceName":"Haircut","duration":30}]"#
        let full = try event(.confirmed, "B2", "codeB2xx", at: 1_000, details: details)
        #expect(full.details != nil && full.details?.endsAt == ISO8601.parse("2030-05-01T14:30:00Z"))
        let bare = try event(.confirmed, "B3", "codeB3xx", at: 1_000)
        let startOnly = try event(.confirmed, "B4", "codeB4xx", at: 1_000, details: #""startsOn":"2030-05-01T14:00:00Z""#)
        #expect(bare.details == nil && startOnly.details == nil)
        let fetches = BookingFetches(redis: test.redis, keys: MappingKeys())
        #expect(try await test.mappings.apply(full, receivedAt: 0) == .applied)
        #expect(try await fetches.counts()[.prefetch] == 0)
        #expect(try await test.mappings.apply(bare, receivedAt: 0) == .applied)
        #expect(try await fetches.counts()[.prefetch] == 1)
        // A duplicate delivery and a cancellation ask for nothing more.
        #expect(try await test.mappings.apply(bare, receivedAt: 0) == .exists)
        _ = try await fetches.next(fetchTimeout: .seconds(5))
        #expect(try await test.mappings.apply(try event(.cancelled, "B3", "codeB3xx", at: 2_000), receivedAt: 0) == .applied)
        #expect(try await fetches.counts()[.prefetch] == 0)
        let record = try #require(try await test.mappings.record(bookingID: "B2"))
        let cached = try #require(record.cachedBooking)
        #expect(record.fetchedAt != nil && cached.items?.first?.serviceName == "Haircut" && cached.bookingId == "B2")
    }
}
