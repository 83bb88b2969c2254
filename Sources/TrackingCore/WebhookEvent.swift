import BooxiModels
import Foundation

/// A Booxi webhook, decoded from its raw body with everything the mappings need. Extra fields are
/// ignored; what is missing or malformed is a ``WebhookEventError`` saying which field.
public struct WebhookEvent: Sendable, Equatable {
    public enum EventType: String, Sendable, CaseIterable {
        case confirmed = "booking.confirmed"
        case modified = "booking.modified"
        case cancelled = "booking.cancelled"
    }

    public var eventType: EventType
    public var bookingID: String
    public var trackingCode: TrackingCode
    public var status: String
    public var firstName: String?
    public var lastName: String?
    /// When the event happened according to Booxi (ms), if the payload says: `timestamp`,
    /// `eventTime` or `occurredAt` at the top, else `booking.modifiedOn`.
    public var eventTime: Int64?
    /// The booking itself, when the delivery carries its details (a start and items): then it is
    /// the cached copy and no fetch is needed.
    public var details: Details?

    public struct Details: Sendable, Equatable {
        /// The delivery's `booking` object, as far as the cached copy keeps it (``CachedCopy``).
        public var booking: Booking
        public var endsAt: Date? { booking.endDate }

        /// A booking we hold in full (a command's answer).
        public init(_ booking: Booking) {
            self.booking = booking
        }
    }

    public static let maxBookingIDLength = 64

    /// An event we derive ourselves, e.g. after a successful modify through our page.
    public init(eventType: EventType, bookingID: String, trackingCode: TrackingCode, status: String, eventTime: Int64?, details: Details? = nil) {
        self.eventType = eventType
        self.bookingID = bookingID
        self.trackingCode = trackingCode
        self.status = status
        self.eventTime = eventTime
        self.details = details
    }

    public init(body: String) throws(WebhookEventError) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)), let root = object as? [String: Any] else {
            throw .notAJSONObject
        }
        guard let event = root["event"] as? String else { throw .missingField("event") }
        guard let eventType = EventType(rawValue: event) else { throw .unknownEvent(String(event.prefix(64))) }
        guard let booking = root["booking"] as? [String: Any] else { throw .missingField("booking") }
        guard let bookingID = booking["confirmationNumber"] as? String else { throw .missingField("booking.confirmationNumber") }
        guard !bookingID.isEmpty, bookingID.count <= Self.maxBookingIDLength,
            bookingID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { throw .invalidField("booking.confirmationNumber") }
        let client = booking["client"] as? [String: Any]
        guard let page = client?["trackingPage"] as? [String: Any], let viewURL = page["viewURL"] as? String else {
            throw .missingField("booking.client.trackingPage.viewURL")
        }
        do {
            trackingCode = try TrackingCode(viewURL: viewURL)
        } catch {
            throw .badViewURL(error)
        }
        self.eventType = eventType
        self.bookingID = bookingID
        let status = booking["status"] as? String
        self.status = eventType == .cancelled ? "Cancelled" : String((status ?? "Approved").prefix(40))
        firstName = (client?["firstName"] as? String).map { String($0.prefix(100)) }
        lastName = (client?["lastName"] as? String).map { String($0.prefix(100)) }
        let timeText = (root["timestamp"] ?? root["eventTime"] ?? root["occurredAt"] ?? booking["modifiedOn"]) as? String
        // `exactly`: a date no Int64 of milliseconds holds is no event time, not a trap.
        eventTime = timeText.flatMap(ISO8601.parse).flatMap { Int64(exactly: ($0.timeIntervalSince1970 * 1000).rounded()) }
        details = Self.details(of: booking)
    }

    /// The booking's details if the delivery carries them: a start and a list of items, which is
    /// what the page shows. Anything less is not enough to skip the fetch.
    static func details(of booking: [String: Any]) -> Details? {
        guard booking["startsOn"] is String || (booking["totalClientTimespan"] as? [String: Any])?["start"] is String,
            booking["items"] is [Any],
            // A delivery names the booking by its confirmation number; the cached copy as Booxi's API does.
            let json = try? JSONSerialization.data(
                withJSONObject: booking.merging(["bookingId": booking["confirmationNumber"] ?? ""]) { own, _ in own }, options: [.sortedKeys]),
            let decoded = try? Booking.decode(Array(json)), decoded.startDate != nil
        else { return nil }
        return Details(decoded)
    }
}

public enum WebhookEventError: Error, Equatable, CustomStringConvertible {
    case notAJSONObject
    case unknownEvent(String)
    case missingField(String)
    case invalidField(String)
    case badViewURL(TrackingCodeError)

    /// The dead-letter reason: readable, without personal data.
    public var description: String {
        switch self {
        case .notAJSONObject: "body is not a JSON object"
        case .unknownEvent(let name): "unknown event '\(name)'"
        case .missingField(let path): "missing field \(path)"
        case .invalidField(let path): "invalid field \(path)"
        case .badViewURL(let error): "bad viewURL: \(error)"
        }
    }
}
