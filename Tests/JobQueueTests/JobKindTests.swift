import Foundation
import JobQueue
import Testing

@Suite("Job kinds: one routing rule, old dead letters still readable")
struct JobKindTests {
    @Test func eachKindHasItsQueue() {
        #expect(JobKind.webhook.queue == .webhooks)
        #expect([JobKind.cancel, .modify, .unreadable].allSatisfy { $0.queue == .commands })
        let keys = QueueKeys(prefix: "p:")
        #expect(keys.waitingList(for: .webhook) == "p:{q}:webhooks" && keys.waitingList(for: .modify) == "p:{q}:commands")
    }

    @Test func anEnvelopeWithAnUnknownKindIsNotAnEnvelope() throws {
        let text = #"{"attempt":0,"id":"x","kind":"teleport","payload":"{}","receivedAt":1}"#
        #expect(throws: DecodingError.self) { try JobEnvelope.decode(Array(text.utf8)) }
        // Dead letters written before the enum called unreadable bytes `unknown`.
        let old = #"{"attempt":0,"id":"x","kind":"unknown","payload":"{","receivedAt":1}"#
        #expect(try JobEnvelope.decode(Array(old.utf8)).kind == .unreadable)
    }
}
