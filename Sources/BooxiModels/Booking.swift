import Foundation

/// A Booxi booking as `GET /booking/{id}` returns it (flat, or wrapped as `{"booking": {...}}`).
/// Decoding is tolerant: unknown fields are ignored, everything but the id is optional.
public struct Booking: Codable, Sendable, Equatable {
    public var bookingId: String
    public var merchantId: Int?
    public var bookingMethod: String?
    public var status: String?
    public var isCompleted: Bool?
    public var startsOn: String?
    public var totalClientTimespan: Timespan?
    public var staffId: Int?
    public var staffFirstName: String?
    /// `Business`, `Home`, `Phone`, `VideoConference` or `Custom`.
    public var location: String?
    /// The location's own words: an address, a phone number, a meeting link.
    public var locationText: String?
    public var modifiedOn: String?
    public var createdOn: String?
    public var items: [Item]?
    public var client: Client?

    public init(
        bookingId: String, merchantId: Int? = nil, bookingMethod: String? = nil, status: String? = nil, isCompleted: Bool? = nil,
        startsOn: String? = nil, totalClientTimespan: Timespan? = nil, staffId: Int? = nil, staffFirstName: String? = nil,
        location: String? = nil, locationText: String? = nil, modifiedOn: String? = nil, createdOn: String? = nil, items: [Item]? = nil,
        client: Client? = nil
    ) {
        self.bookingId = bookingId
        self.merchantId = merchantId
        self.bookingMethod = bookingMethod
        self.status = status
        self.isCompleted = isCompleted
        self.startsOn = startsOn
        self.totalClientTimespan = totalClientTimespan
        self.staffId = staffId
        self.staffFirstName = staffFirstName
        self.location = location
        self.locationText = locationText
        self.modifiedOn = modifiedOn
        self.createdOn = createdOn
        self.items = items
        self.client = client
    }

    public struct Timespan: Codable, Sendable, Equatable {
        public var start: String?
        public var end: String?
        public var duration: Int?

        public init(start: String?, end: String?, duration: Int?) {
            self.start = start
            self.end = end
            self.duration = duration
        }
    }

    public struct Item: Codable, Sendable, Equatable {
        public var serviceId: Int?
        public var serviceName: String?
        public var duration: Int?

        public init(serviceId: Int?, serviceName: String?, duration: Int?) {
            self.serviceId = serviceId
            self.serviceName = serviceName
            self.duration = duration
        }
    }

    public struct Client: Codable, Sendable, Equatable {
        public var firstName: String?
        public var lastName: String?
        public var email: String?
        public var presence: String?
        public var trackingPage: TrackingPage?

        public init(firstName: String?, lastName: String?, email: String?, presence: String?, trackingPage: TrackingPage?) {
            self.firstName = firstName
            self.lastName = lastName
            self.email = email
            self.presence = presence
            self.trackingPage = trackingPage
        }
    }

    public struct TrackingPage: Codable, Sendable, Equatable {
        public var viewURL: String?

        public init(viewURL: String?) {
            self.viewURL = viewURL
        }
    }

    /// Booxi's definition: approved, the client arrived, and the booking marked completed.
    public var isCompletedVisit: Bool {
        status == "Approved" && client?.presence?.lowercased() == "arrived" && isCompleted == true
    }

    public var startDate: Date? { (totalClientTimespan?.start ?? startsOn).flatMap(ISO8601.parse) }
    /// The end Booxi gives, else the start plus the duration.
    public var endDate: Date? {
        if let end = totalClientTimespan?.end.flatMap(ISO8601.parse) { return end }
        guard let start = startDate, let minutes = durationMinutes else { return nil }
        return start.addingTimeInterval(Double(minutes) * 60)
    }

    /// The client's time in minutes: the timespan's, else the items' sum.
    public var durationMinutes: Int? {
        // Saturating: the items' durations come from a payload, and their sum must not trap.
        totalClientTimespan?.duration
            ?? items?.compactMap(\.duration).reduce(0) { sum, next in
                let (total, overflow) = sum.addingReportingOverflow(next)
                return overflow ? (next < 0 ? .min : .max) : total
            }
    }

    /// Decodes the flat and the wrapped form, in one pass over the text.
    public static func decode(_ bytes: [UInt8]) throws -> Booking {
        try JSONDecoder().decode(FlatOrWrapped.self, from: Data(bytes)).booking
    }

    /// `{"booking": {...}}` when the top level has a `booking` object, the booking itself otherwise.
    private struct FlatOrWrapped: Decodable {
        let booking: Booking

        private enum Keys: String, CodingKey { case booking }

        init(from decoder: any Decoder) throws {
            let top = try decoder.container(keyedBy: Keys.self)
            if let wrapped = try? top.decodeIfPresent(Booking.self, forKey: .booking) {
                booking = wrapped
            } else {
                booking = try Booking(from: decoder)
            }
        }
    }
}
