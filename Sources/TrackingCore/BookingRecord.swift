import BooxiModels

/// What Redis holds about one booking.
public struct BookingRecord: Sendable, Equatable {
    public var bookingID: String
    public var code: String
    public var status: String
    /// Event time (or receive time) in ms of the last event applied.
    public var version: Int64
    public var lastEvent: String?
    public var firstName: String?
    public var lastName: String?
    /// The booking as the last copy fetched from Booxi (or written after a command) had it, if
    /// any: what ``CachedCopy`` keeps of it.
    public var cachedBooking: Booking?
    /// When `cachedBooking` was fetched (ms); nil once an event made it out of date.
    public var fetchedAt: Int64?
    /// How many times the booking changed as we saw it: events applied and differing copies stored.
    public var changes: Int
    /// Who cancelled, when we know: `visitor` for a cancel from the tracking page.
    public var cancelledBy: String?

    init?(fields: [String: [UInt8]]) {
        func text(_ name: String) -> String? { fields[name].map { String(decoding: $0, as: UTF8.self) } }
        guard let bookingID = text("bookingId"), let code = text("code"), let status = text("status") else { return nil }
        self.bookingID = bookingID
        self.code = code
        self.status = status
        version = text("version").flatMap { Int64($0) } ?? 0
        lastEvent = text("event")
        firstName = text("firstName")
        lastName = text("lastName")
        // A record written before the compact copy holds Booxi's JSON: read until its next copy.
        cachedBooking = CachedCopy.booking(bookingID: bookingID, fields: fields) ?? fields["booking"].flatMap { try? Booking.decode($0) }
        fetchedAt = text("fetchedAt").flatMap { Int64($0) }
        cancelledBy = text("cancelledBy")
        changes = text("changes").flatMap { Int($0) } ?? 0
    }

    public var isCancelled: Bool { status == "Cancelled" }
}
