@testable import Ingress
import Testing

@Suite("Ingress validation: body shape and Content-Type, without Redis")
struct WebhookPayloadTests {
    static let scanner = WebhookPayload.scanner(idField: "id")

    @Test func objectsWithAStringEventPass() throws {
        let payload = try WebhookPayload(
            body: Array(#" {"id": "evt_1", "event":"booking.modified","x":[1,{"y":null}]} "#.utf8), scanner: Self.scanner)
        #expect(payload.event == "booking.modified")
        #expect(payload.eventID == "evt_1")
        #expect(payload.text == #" {"id": "evt_1", "event":"booking.modified","x":[1,{"y":null}]} "#)
        #expect(try WebhookPayload(body: Array(#"{"event":"e","id":42}"#.utf8), scanner: Self.scanner).eventID == "42")
        #expect(try WebhookPayload(body: Array(#"{"event":"e","id":true}"#.utf8), scanner: Self.scanner).eventID == nil)
        #expect(try WebhookPayload(body: Array(#"{"event":"e","id":""}"#.utf8), scanner: Self.scanner).eventID == nil)
        #expect(try WebhookPayload(body: Array(#"{"event":"e","eventId":"x"}"#.utf8), scanner: Self.scanner).eventID == nil)
    }

    @Test(arguments: [
        ("not json", WebhookPayload.Rejection.notJSON), (#"{"event":"#, .notJSON), (#"{"event":"e"} trailing"#, .notJSON),
        ("", .notJSON), ("[1,2]", .notAnObject), (#""text""#, .notAnObject), ("42", .notAnObject),
        (#"{"event":42}"#, .missingEvent), (#"{"event":""}"#, .missingEvent), (#"{"booking":{}}"#, .missingEvent),
    ])
    func badBodiesAreRejectedWithTheirReason(body: String, reason: WebhookPayload.Rejection) {
        #expect(throws: reason) { try WebhookPayload(body: Array(body.utf8), scanner: Self.scanner) }
    }

    @Test func invalidUTF8IsNotJSON() {
        #expect(throws: WebhookPayload.Rejection.notJSON) { try WebhookPayload(body: [0x7B, 0xFF, 0x7D], scanner: Self.scanner) }
    }

    @Test func contentTypes() {
        for accepted in [
            "application/json", "Application/JSON; charset=utf-8", " application/json ", "application/cloudevents+json", "application/json\t;v=1",
        ] {
            #expect(WebhookReceiver.isJSON(accepted), "\(accepted)")
        }
        for refused in [nil, "", "text/plain", "application/xml", "text/json", "application/jsonx", "application/+jsonp", "json"] as [String?] {
            #expect(!WebhookReceiver.isJSON(refused), "\(refused ?? "nil")")
        }
    }
}
