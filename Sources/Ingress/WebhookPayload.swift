import Foundation

/// The cheap checks the ingress makes on a body before queuing it: a JSON object whose `event`
/// is a string. Whether the event is known is the worker's decision, so nothing Booxi sends is lost.
public struct WebhookPayload {
    let event: String
    /// The event's unique id, when the body carries one in the configured field.
    let eventID: String?
    /// `booking.confirmationNumber`, when there: what the de-duplication marker names, for the
    /// console's search by event id.
    let bookingID: String?
    /// The body as text, byte for byte (JSON is UTF-8, so this round-trips exactly).
    let text: String

    public enum Rejection: Error, Equatable {
        case notJSON
        case notAnObject
        case missingEvent
    }

    /// The scanner ``init(body:scanner:)`` wants: it looks for `event` and the configured id
    /// field. Made once per receiver, not per delivery.
    public static func scanner(idField: String) -> JSONObjectScanner {
        JSONObjectScanner(members: ["event", idField, "booking"])
    }

    /// Finds `confirmationNumber` in the `booking` object.
    static let bookingScanner = JSONObjectScanner(members: ["confirmationNumber"])

    /// Validates the whole body as JSON (``JSONObjectScanner``) and reads the two fields it needs.
    public init(body: [UInt8], scanner: JSONObjectScanner) throws(Rejection) {
        guard let text = String(validating: body, as: UTF8.self) else { throw .notJSON }
        let members: [ArraySlice<UInt8>?]
        do {
            members = try scanner.scan(body)
        } catch {
            throw error == .notAnObject ? .notAnObject : .notJSON
        }
        guard let event = members[0].flatMap(JSONObjectScanner.string), !event.isEmpty else { throw .missingEvent }
        self.event = event
        self.text = text
        self.eventID = members[1].flatMap(Self.eventID)
        // The body is valid JSON by now, so the booking object is too; only an object is scanned.
        bookingID = members[2].flatMap { booking in
            guard booking.first == UInt8(ascii: "{"), let found = try? Self.bookingScanner.scan(Array(booking)) else { return nil }
            return found[0].flatMap(Self.eventID)
        }
    }

    /// A non-empty string of at most 256 bytes, or an integer (as `JSONDecoder` reads one: `12`,
    /// `1.0`, `1e2`); anything else means "no id".
    private static func eventID(_ value: ArraySlice<UInt8>) -> String? {
        if let text = JSONObjectScanner.string(value) {
            return text.isEmpty || text.utf8.count > 256 ? nil : text
        }
        guard let first = value.first, first == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return nil }
        let integer = Int(String(decoding: value, as: UTF8.self)) ?? (try? JSONDecoder().decode(Int.self, from: Data(value)))
        return integer.map { String($0) }
    }
}
