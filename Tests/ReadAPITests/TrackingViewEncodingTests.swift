import BooxiModels
import Foundation
@testable import ReadAPI
import TestSupport
import Testing
import TrackingConfig
@testable import TrackingCore

@Suite("TrackingView: the hand-written JSON equals JSONEncoder's")
struct TrackingViewEncodingTests {
    static func record(status: String, firstName: String?) -> BookingRecord {
        var fields: [String: [UInt8]] = ["bookingId": Array("B1".utf8), "code": Array("abcDEF123".utf8), "status": Array(status.utf8)]
        fields["firstName"] = firstName.map { Array($0.utf8) }
        return BookingRecord(fields: fields)!
    }

    static let bookings: [Booking?] = [
        nil,
        Booking(bookingId: "B1"),
        Booking(
            bookingId: "B1", status: "Approved", startsOn: "2030-01-02T10:00:00Z",
            totalClientTimespan: .init(start: "2030-01-02T10:00:00Z", end: "2030-01-02T10:45:00Z", duration: 45),
            items: [
                .init(serviceId: 7, serviceName: "Coupe \"homme\" / barbe", duration: 30),
                .init(serviceId: nil, serviceName: "Soin\té", duration: 15),
            ],
            client: .init(firstName: "Zoë", lastName: "O'Brien\\", email: "z@example.com", presence: nil, trackingPage: nil)),
        Booking(
            bookingId: "B1", status: "Approved", isCompleted: true, startsOn: "2001-01-01T00:00:00Z", items: [],
            client: .init(firstName: nil, lastName: "Doe", email: nil, presence: "Arrived", trackingPage: nil)),
        Booking(
            bookingId: "B1", merchantId: 9, status: "Approved", startsOn: "2001-01-01T00:00:00Z", staffId: 43, staffFirstName: "Alex",
            location: "VideoConference", locationText: "https://meet.example.com/r/1",
            items: [.init(serviceId: 7, serviceName: "Call", duration: 20)]),
        Booking(bookingId: "B1", status: "PendingStaffApproval", startsOn: "2030-01-02T10:00:00Z", location: "Home", locationText: "12 rue \"Nord\""),
    ]

    static let venue: VenueDirectory.Known = {
        let venue = Venue(
            merchant: Merchant(
                name: "Salon \"Lumière\"", address: "1 Main St, Montréal", timeZone: "America/Toronto", latitude: 45.5, longitude: -73.56,
                phoneNumber: "+1 514 555 0100"),
            settings: VenueSettings(), defaultTimeZone: "UTC")
        return VenueDirectory.Known(venue: venue, json: venue.json(), until: .now + .seconds(60))
    }()

    @Test(arguments: 0..<bookings.count)
    func matchesJSONEncoder(index: Int) throws {
        for (status, firstName) in [("Approved", "Jane" as String?), ("Cancelled", nil)] {
            for stale in [false, true] {
                let entry = LookupCache.Entry(record: Self.record(status: status, firstName: firstName), booking: Self.bookings[index])
                for policy in [
                    TrackingView.Policy(cutoffMinutes: 60, bookAgainWithWidget: true, bookAgainWithLink: false),
                    TrackingView.Policy(cutoffMinutes: 0, bookAgainWithWidget: false, bookAgainWithLink: true),
                ] {
                    let view = TrackingView(entry: entry, venue: Self.venue, stale: stale, policy: policy)
                    // The venue is spliced in pre-encoded, as the last member ("venue" sorts last).
                    var expected = try referenceJSON(view)
                    if let venueJSON = view.venueJSON {
                        expected.removeLast()
                        expected += Array(#","venue":"#.utf8) + venueJSON + [UInt8(ascii: "}")]
                        #expect(venueJSON == (try referenceJSON(Self.venue.venue)))
                    }
                    #expect(view.encoded() == expected, "\(String(decoding: view.encoded(), as: UTF8.self))")
                }
            }
        }
    }
}
