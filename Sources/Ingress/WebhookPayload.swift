import Foundation

/// The cheap checks the ingress makes on a body before queuing it: a JSON object whose `event`
/// is a string. Whether the event is known is the worker's decision, so nothing Booxi sends is lost.
struct WebhookPayload {
    let event: String
    /// The event's unique id, when the body carries one in the configured field.
    let eventID: String?
    /// The body as text, byte for byte (JSON is UTF-8, so this round-trips exactly).
    let text: String

    enum Rejection: Error, Equatable {
        case notJSON
        case notAnObject
        case missingEvent
    }

    /// The decoder ``init(body:decoder:)`` wants: it knows the configured id field. Made once per
    /// receiver, not per delivery.
    static func decoder(idField: String) -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.userInfo[Probe.idFieldKey] = idField
        return decoder
    }

    /// Validates the whole body as JSON but decodes only the two fields it needs (`JSONDecoder`
    /// with a keyed container is several times cheaper than building a `[String: Any]`).
    init(body: [UInt8], decoder: JSONDecoder) throws(Rejection) {
        guard let text = String(validating: body, as: UTF8.self) else { throw .notJSON }
        let probe: Probe
        do {
            probe = try decoder.decode(Probe.self, from: Data(body))
        } catch DecodingError.typeMismatch {
            throw .notAnObject
        } catch {
            throw .notJSON
        }
        guard let event = probe.event, !event.isEmpty else { throw .missingEvent }
        self.event = event
        self.text = text
        self.eventID = probe.eventID
    }

    /// The top level as a keyed container: decoding fails with `typeMismatch` when it is not an object.
    private struct Probe: Decodable {
        static let idFieldKey = CodingUserInfoKey(rawValue: "idField")!
        let event: String?
        let eventID: String?

        init(from decoder: any Decoder) throws {
            let object = try decoder.container(keyedBy: Key.self)
            event = try? object.decodeIfPresent(String.self, forKey: Key("event"))
            guard let idField = decoder.userInfo[Self.idFieldKey] as? String else {
                eventID = nil
                return
            }
            let key = Key(idField)
            if let id = try? object.decodeIfPresent(String.self, forKey: key), !id.isEmpty, id.utf8.count <= 256 {
                eventID = id
            } else if let id = try? object.decodeIfPresent(Int.self, forKey: key) {
                eventID = String(id)
            } else {
                eventID = nil
            }
        }
    }

    private struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
