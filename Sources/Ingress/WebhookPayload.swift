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

    init(body: [UInt8], idField: String) throws(Rejection) {
        guard let text = String(validating: body, as: UTF8.self),
            let object = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        else { throw .notJSON }
        guard let dictionary = object as? [String: Any] else { throw .notAnObject }
        guard let event = dictionary["event"] as? String, !event.isEmpty else { throw .missingEvent }
        self.event = event
        self.text = text
        switch dictionary[idField] {
        case let id as String where !id.isEmpty && id.utf8.count <= 256: eventID = id
        case let id as Int where !(dictionary[idField] is Bool): eventID = String(id)
        default: eventID = nil
        }
    }
}
