import Foundation
import JobQueue
import TestSupport
import Testing

@Suite("JobEnvelope: the hand-written JSON equals JSONEncoder's, and decodes back")
struct JobEnvelopeEncodingTests {
    /// Every ASCII control character, the characters JSON escapes, slashes and multi-byte text.
    static let awkward: [String] = [
        "", "plain", #"{"event":"booking.confirmed","n":1}"#, "quote \" backslash \\ slash / end",
        String((0..<32).map { Character(Unicode.Scalar(UInt8($0))) }), "\u{7F}\u{80}é😀\u{2028}\u{FEFF}",
        "line\nbreak\r\ttab\u{8}\u{C}", "https://book.booxi.com/tracking/ABC",
    ]

    @Test(arguments: awkward)
    func matchesJSONEncoder(text: String) throws {
        for headers in [nil, [:], ["webhook-id": text, "a": "1", "user-agent": "Booxi/1"]] as [[String: String]?] {
            for lastError in [nil, text] {
                let envelope = JobEnvelope(
                    id: "id-\(text.count)", kind: JobKind.allCases[text.count % JobKind.allCases.count], receivedAt: -1_700_000_000_123, attempt: 3,
                    payload: text,
                    headers: headers, lastError: lastError)
                let expected = try referenceJSON(envelope)
                #expect(envelope.encoded() == expected, "\(String(decoding: envelope.encoded(), as: UTF8.self))")
                #expect(try JobEnvelope.decode(envelope.encoded()) == envelope)
            }
        }
    }

    @Test func randomTextRoundTrips() throws {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let scalars = (0..<Int.random(in: 0..<40, using: &random)).compactMap { _ in
                Unicode.Scalar(UInt32.random(in: 0..<0x1F000, using: &random))
            }
            let text = String(String.UnicodeScalarView(scalars))
            let envelope = JobEnvelope(kind: .webhook, payload: text, headers: ["webhook-id": text])
            #expect(try envelope.encoded() == referenceJSON(envelope))
            #expect(try JobEnvelope.decode(envelope.encoded()) == envelope)
        }
    }
}

@Suite("JobEnvelope ids")
struct JobEnvelopeIDTests {
    @Test func idsAreLowerCaseVersion4UUIDsAndDistinct() {
        let ids = (0..<2_000).map { _ in JobEnvelope.newID() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(50) {
            let uuid = UUID(uuidString: id)
            #expect(uuid != nil && id == id.lowercased(), "\(id)")
            #expect(Array(id)[14] == "4", "version nibble of \(id)")
            #expect("89ab".contains(Array(id)[19]), "variant of \(id)")
        }
    }
}
