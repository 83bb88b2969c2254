import BooxiAPI
import Foundation
import JobQueue
import TrackingCore

/// What the tracking page gets for a code: enough to show the booking and offer actions, nothing
/// of Booxi's internals (no bookingId, merchantId, staff ids or e-mail).
public struct TrackingView: Codable, Sendable, Equatable {
    public struct Client: Codable, Sendable, Equatable {
        public var firstName: String?
        public var lastName: String?
    }

    public struct Actions: Codable, Sendable, Equatable {
        public var canCancel: Bool
        public var canModify: Bool
    }

    public var trackingCode: String
    public var status: String
    public var isCompleted: Bool
    public var startsOn: String?
    public var endsOn: String?
    /// Minutes.
    public var duration: Int?
    public var serviceName: String?
    public var serviceId: Int?
    public var client: Client
    public var actions: Actions
    /// True when Booxi could not be reached and this is the last copy we had.
    public var stale: Bool
    /// Why the booking can no longer change, if it cannot (not part of the JSON).
    var changeRefusal: ChangeRefusal?

    private enum CodingKeys: String, CodingKey {
        case trackingCode, status, isCompleted, startsOn, endsOn, duration, serviceName, serviceId, client, actions, stale
    }

    /// Builds the view from our record (its status wins: it knows a cancellation before Booxi's
    /// copy does) and the cached booking.
    init(entry: LookupCache.Entry, stale: Bool, cutoffMinutes: Int, now: Date = Date()) {
        let record = entry.record
        let booking = entry.booking
        trackingCode = record.code
        status = record.status
        isCompleted = booking?.isCompletedVisit ?? false
        startsOn = booking?.totalClientTimespan?.start ?? booking?.startsOn
        endsOn = booking?.totalClientTimespan?.end
        duration = booking?.totalClientTimespan?.duration ?? booking?.items?.compactMap(\.duration).reduce(0, +)
        serviceName = booking?.items?.compactMap(\.serviceName).joined(separator: ", ")
        serviceId = booking?.items?.first?.serviceId
        client = Client(firstName: booking?.client?.firstName ?? record.firstName, lastName: booking?.client?.lastName ?? record.lastName)
        let refusal = ChangeRefusal.check(recordStatus: record.status, booking: booking, start: entry.startDate, cutoffMinutes: cutoffMinutes, now: now)
        actions = Actions(canCancel: refusal == nil, canModify: refusal == nil)
        changeRefusal = refusal
        self.stale = stale
    }

    /// The view as JSON, members sorted, as `JSONEncoder` writes it (once per lookup: written by
    /// hand, it costs a fraction of the encoder's reflection; a test compares both).
    func encoded() -> [UInt8] {
        var json = JSONText()
        json.beginObject()
        json.key("actions")
        json.beginObject()
        json.member("canCancel", actions.canCancel)
        json.member("canModify", actions.canModify)
        json.endObject()
        json.key("client")
        json.beginObject()
        json.member("firstName", client.firstName)
        json.member("lastName", client.lastName)
        json.endObject()
        json.member("duration", duration)
        json.member("endsOn", endsOn)
        json.member("isCompleted", isCompleted)
        json.member("serviceId", serviceId)
        json.member("serviceName", serviceName)
        json.member("stale", stale)
        json.member("startsOn", startsOn)
        json.member("status", status)
        json.member("trackingCode", trackingCode)
        json.endObject()
        return json.bytes
    }
}
