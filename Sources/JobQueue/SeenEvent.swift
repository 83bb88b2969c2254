/// An event id the ingress has seen, as its de-duplication marker (`seen:<eventId>`) holds it: the
/// subject its first push marked (a booking id, or `1`), then one `+` per duplicate delivery stopped
/// since (booking ids never hold a `+`).
public struct SeenEvent: Sendable, Equatable {
    /// Duplicates counted at most: a sender that repeats an event without end cannot grow the marker.
    public static let maxCounted = 100

    public var subject: String
    /// Deliveries of the event stopped by de-duplication (``maxCounted`` means "at least").
    public var duplicates: Int

    public init(marker: String) {
        let subject = marker.prefix { $0 != "+" }
        self.subject = String(subject)
        duplicates = marker.utf8.count - subject.utf8.count
    }
}
