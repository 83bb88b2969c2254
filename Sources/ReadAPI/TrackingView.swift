import BooxiModels
import Foundation
import JobQueue
import TrackingCore

/// What the tracking page gets for a code: enough to show the booking, where and when, its rules
/// and actions, nothing of Booxi's internals (no bookingId, merchantId or e-mail). The one
/// exception is "Book again" with the widget: BookNow preselects by `serviceId` and `staffId`, so
/// those two are sent, and only then (they are public in the merchant's own booking widget).
public struct TrackingView: Codable, Sendable, Equatable {
    public struct Client: Codable, Sendable, Equatable {
        public var firstName: String?
        public var lastName: String?
    }

    public struct Actions: Codable, Sendable, Equatable {
        public var canCancel: Bool
        public var canModify: Bool
    }

    /// Where the appointment happens, by Booxi's `location` kind.
    public struct Location: Codable, Sendable, Equatable {
        /// `business`, `home`, `phone`, `video` or `custom`.
        public var kind: String
        /// The booking's own words for home, phone and custom locations.
        public var text: String?
        /// A video conference link, only when the booking carries one.
        public var videoUrl: String?
    }

    /// "Book again": BookNow's preselection (with a widget key), or the booking page.
    public struct BookAgain: Codable, Sendable, Equatable {
        public var serviceId: Int?
        public var staffId: Int?
    }

    public var trackingCode: String
    public var status: String
    /// One of ``BookingState``.
    public var state: String
    /// `visitor` when the cancel came from this page.
    public var cancelledBy: String?
    public var isCompleted: Bool
    public var startsOn: String?
    public var endsOn: String?
    /// Minutes.
    public var duration: Int?
    /// The IANA zone the appointment is kept in (the store's, else `page.timeZone`).
    public var timeZone: String
    public var serviceName: String?
    public var serviceId: Int?
    public var staffFirstName: String?
    public var location: Location
    public var client: Client
    public var actions: Actions
    /// The last moment a change is allowed (start minus `api.actionCutoffMinutes`), while it can change.
    public var changeUntil: String?
    /// Why it can no longer change (`too_late`, `already_cancelled`, `completed`).
    public var changeRefusal: String?
    public var bookAgain: BookAgain?
    /// True when Booxi could not be reached and this is the last copy we had.
    public var stale: Bool
    /// The store, pre-encoded, for in-store appointments (its JSON is the `venue` member).
    var venueJSON: [UInt8]?
    var refusal: ChangeRefusal?

    private enum CodingKeys: String, CodingKey {
        case trackingCode, status, state, cancelledBy, isCompleted, startsOn, endsOn, duration, timeZone, serviceName, serviceId
        case staffFirstName, location, client, actions, changeUntil, changeRefusal, bookAgain, stale
    }

    /// How the page's rules apply, from the API's and the page's settings.
    struct Policy: Sendable {
        var cutoffMinutes: Int
        /// `page.widgetApiKey` is set: book again through BookNow, with the ids it preselects.
        var bookAgainWithWidget: Bool
        /// `page.bookingUrl` is set.
        var bookAgainWithLink: Bool
    }

    /// Builds the view from our record (its status wins: it knows a cancellation before Booxi's
    /// copy does), the cached booking, and the store's venue.
    init(entry: LookupCache.Entry, venue: VenueDirectory.Known, stale: Bool, policy: Policy, now: Date = Date()) {
        let record = entry.record
        let booking = entry.booking
        trackingCode = record.code
        status = record.status
        let state = BookingState.of(recordStatus: record.status, booking: booking, end: entry.endDate ?? entry.startDate, now: now)
        self.state = state.rawValue
        cancelledBy = state == .cancelled ? record.cancelledBy : nil
        isCompleted = booking?.isCompletedVisit ?? false
        startsOn = booking?.totalClientTimespan?.start ?? booking?.startsOn
        // Booxi's own text when it gives an end (no formatting on a lookup), else start plus duration.
        endsOn = booking?.totalClientTimespan?.end ?? entry.endDate.map(ISO8601.format)
        duration = booking?.durationMinutes
        timeZone = venue.venue.timeZone
        serviceName = booking?.items?.compactMap(\.serviceName).joined(separator: ", ")
        serviceId = booking?.items?.first?.serviceId
        staffFirstName = booking?.staffFirstName
        location = Location(booking)
        venueJSON = location.kind == "business" && !venue.venue.isEmpty ? venue.json : nil
        client = Client(firstName: booking?.client?.firstName ?? record.firstName, lastName: booking?.client?.lastName ?? record.lastName)
        let refusal = ChangeRefusal.check(
            recordStatus: record.status, booking: booking, start: entry.startDate, cutoffMinutes: policy.cutoffMinutes, now: now)
        actions = Actions(canCancel: refusal == nil, canModify: refusal == nil)
        self.refusal = refusal
        changeRefusal = refusal?.rawValue
        if refusal == nil {
            changeUntil =
                policy.cutoffMinutes == 0
                ? startsOn : entry.startDate.map { ISO8601.format($0.addingTimeInterval(-Double(policy.cutoffMinutes * 60))) }
        }
        if state.isOver && (policy.bookAgainWithWidget || policy.bookAgainWithLink) {
            bookAgain = policy.bookAgainWithWidget ? BookAgain(serviceId: serviceId, staffId: booking?.staffId) : BookAgain()
        }
        self.stale = stale
    }

    /// The view as JSON, members sorted, as `JSONEncoder` writes it (once per lookup: written by
    /// hand, it costs a fraction of the encoder's reflection; a test compares both).
    func encoded() -> [UInt8] {
        var json = JSONText(capacity: 768)
        json.beginObject()
        json.key("actions")
        json.beginObject()
        json.member("canCancel", actions.canCancel)
        json.member("canModify", actions.canModify)
        json.endObject()
        if let bookAgain {
            json.key("bookAgain")
            json.beginObject()
            json.member("serviceId", bookAgain.serviceId)
            json.member("staffId", bookAgain.staffId)
            json.endObject()
        }
        json.member("cancelledBy", cancelledBy)
        json.member("changeRefusal", changeRefusal)
        json.member("changeUntil", changeUntil)
        json.key("client")
        json.beginObject()
        json.member("firstName", client.firstName)
        json.member("lastName", client.lastName)
        json.endObject()
        json.member("duration", duration)
        json.member("endsOn", endsOn)
        json.member("isCompleted", isCompleted)
        json.key("location")
        json.beginObject()
        json.member("kind", location.kind)
        json.member("text", location.text)
        json.member("videoUrl", location.videoUrl)
        json.endObject()
        json.member("serviceId", serviceId)
        json.member("serviceName", serviceName)
        json.member("staffFirstName", staffFirstName)
        json.member("stale", stale)
        json.member("startsOn", startsOn)
        json.member("state", state)
        json.member("status", status)
        json.member("timeZone", timeZone)
        json.member("trackingCode", trackingCode)
        json.raw("venue", venueJSON)
        json.endObject()
        return json.bytes
    }
}

extension TrackingView.Location {
    /// Booxi's kinds (`Business`, `Home`, `Phone`, `VideoConference`, `Custom`); a booking that
    /// names none is in store. A video link is only ever an https URL from the booking itself.
    init(_ booking: Booking?) {
        let text = booking?.locationText.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        switch booking?.location?.lowercased() {
        case "home": self.init(kind: "home", text: text)
        case "phone": self.init(kind: "phone", text: text)
        case "videoconference":
            let link = text.flatMap { URL(string: $0) }.flatMap { $0.scheme == "https" && $0.host != nil ? $0.absoluteString : nil }
            self.init(kind: "video", videoUrl: link)
        case "custom": self.init(kind: "custom", text: text)
        default: self.init(kind: "business")
        }
    }
}
