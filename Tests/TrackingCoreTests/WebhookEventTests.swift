import Foundation
import TestSupport
import Testing
import TrackingCore

@Suite("Webhook parsing and tracking codes")
struct WebhookEventTests {
    @Test func parsesTheFixtures() throws {
        let confirmed = try WebhookEvent(body: String(decoding: try fixture("webhook-confirmed.json"), as: UTF8.self))
        #expect(confirmed.eventType == .confirmed && confirmed.bookingID == "A00006500")
        #expect(confirmed.trackingCode.value == "abc123XYZ" && confirmed.status == "Approved")
        #expect(confirmed.firstName == "Jane" && confirmed.eventTime == nil)
        let modified = try WebhookEvent(body: String(decoding: try fixture("webhook-modified.json"), as: UTF8.self))
        #expect(modified.eventType == .modified && modified.trackingCode.value == "wrFQzZecN1zLZLLchJeKOcEO9UziArM9XWrR")
        let cancelled = try WebhookEvent(body: String(decoding: try fixture("webhook-cancelled.json"), as: UTF8.self))
        #expect(cancelled.eventType == .cancelled && cancelled.status == "Cancelled")
    }

    @Test func toleratesExtraFieldsAndReadsEventTimes() throws {
        let body = """
            {"event":"booking.modified","id":"e1","timestamp":"2026-01-02T03:04:05.678Z","extra":{"deep":[1,2]},
             "booking":{"confirmationNumber":"B1","status":"Approved","new":true,
               "client":{"firstName":"Al","trackingPage":{"viewURL":"https://book.booxi.eu/tracking/XyZ_-09"}}}}
            """
        let event = try WebhookEvent(body: body)
        #expect(event.trackingCode.value == "XyZ_-09")
        #expect(event.eventTime == 1_767_323_045_678)
        #expect(event.lastName == nil)
    }

    @Test(arguments: [
        ("not json", "body is not a JSON object"),
        ("[1]", "body is not a JSON object"),
        (#"{"event":"booking.teleported"}"#, "unknown event 'booking.teleported'"),
        (#"{"booking":{}}"#, "missing field event"),
        (#"{"event":"booking.confirmed"}"#, "missing field booking"),
        (#"{"event":"booking.confirmed","booking":{"client":{}}}"#, "missing field booking.confirmationNumber"),
        (#"{"event":"booking.confirmed","booking":{"confirmationNumber":"A 1"}}"#, "invalid field booking.confirmationNumber"),
        (#"{"event":"booking.confirmed","booking":{"confirmationNumber":"A1","client":{}}}"#, "missing field booking.client.trackingPage.viewURL"),
        (
            #"{"event":"booking.confirmed","booking":{"confirmationNumber":"A1","client":{"trackingPage":{"viewURL":"https://evil.example/tracking/abcd"}}}}"#,
            "bad viewURL: viewURL host is not a Booxi host"
        ),
        (
            #"{"event":"booking.confirmed","booking":{"confirmationNumber":"A1","client":{"trackingPage":{"viewURL":"http://book.booxi.com/tracking/abcd"}}}}"#,
            "bad viewURL: viewURL is not https"
        ),
        (
            #"{"event":"booking.confirmed","booking":{"confirmationNumber":"A1","client":{"trackingPage":{"viewURL":"https://book.booxi.com/track/abcd"}}}}"#,
            "bad viewURL: viewURL path is not /tracking/CODE"
        ),
        (
            #"{"event":"booking.confirmed","booking":{"confirmationNumber":"A1","client":{"trackingPage":{"viewURL":"https://book.booxi.com/tracking/ab%20cd"}}}}"#,
            "bad viewURL: tracking code has a bad shape (4-128 characters A-Z a-z 0-9 - _)"
        ),
    ])
    func malformedBodiesSayWhatIsWrong(body: String, reason: String) {
        #expect(throws: Error.self) { try WebhookEvent(body: body) }
        do { _ = try WebhookEvent(body: body) } catch { #expect(error.description == reason) }
    }

    @Test func codeShape() {
        #expect(TrackingCode("abcd") != nil)
        #expect(TrackingCode(String(repeating: "a", count: 128)) != nil)
        for bad in ["abc", String(repeating: "a", count: 129), "ab/cd", "ab cd", "abcé", "ab.cd", "", "<script>"] {
            #expect(TrackingCode(bad) == nil, "\(bad)")
        }
        #expect(TrackingCode("abcdef")!.logID.count == 12)
        #expect(!"\(TrackingCode("secretcode")!)".contains("secretcode"))
    }
}
