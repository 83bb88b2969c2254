import Foundation
@testable import Ingress
import TestSupport
import Testing

@Suite("Ingress body scan: RFC 8259 JSON, a few top-level members, checked against Foundation")
struct JSONObjectScannerTests {
    static let scanner = JSONObjectScanner(members: ["event", "id"])

    static func scan(_ text: String) throws(JSONObjectScanner.Failure) -> [String?] {
        try scanner.scan(Array(text.utf8)).map { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    @Test(arguments: [
        #"{}"#, #" {"event":"e"} "#, "\u{FEFF}{\"event\":\"e\"}", "{\r\n\t\"a\" : [ ] ,\"b\":{ }}",
        #"{"a":[1,-0,0.5,-12.25e+3,1E-2,10,true,false,null,"",{"b":[[]]}]}"#,
        #"{"s":"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00","t":"é😀"# + "\u{7F}\"}", #"{"n":100000000000000000000000000000}"#,
    ])
    func acceptsJSONObjects(text: String) throws {
        _ = try Self.scan(text)
        #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) is [String: Any], "Foundation agrees")
    }

    @Test(arguments: [
        "", " ", "{", "}", #"{"a"}"#, #"{"a":}"#, #"{"a" 1}"#, #"{"a":1 "b":2}"#, #"{,"a":1}"#, #"{"a":1,,"b":2}"#,
        #"{"a":1,}"#, #"{"a":[1,]}"#, #"{"a":[,1]}"#, #"{"a":1}{"#, #"{"a":1} x"#, "{\"a\":1}\u{0C}", "{\"a\":1}\0",
        #"{"a":01}"#, #"{"a":-01}"#, #"{"a":-}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":+1}"#, #"{"a":1e}"#, #"{"a":1e+}"#,
        #"{"a":NaN}"#, #"{"a":Infinity}"#, #"{"a":tru}"#, #"{"a":nul}"#, #"{"a":True}"#, #"{'a':1}"#, #"{a:1}"#,
        #"{"a":1/*c*/}"#, "{\"a\":\"x\ty\"}", "{\"a\":\"x\ny\"}", #"{"a":"\x"}"#, #"{"a":"\u12G4"}"#, #"{"a":"\u12"}"#,
        #"{"a":"\ud800"}"#, #"{"a":"\udc00"}"#, #"{"a":"\ud800x"}"#, #"{"a":"\ud800\u0041"}"#, #"{"a":"open}"#, #"{"a":"\"#,
        #"{"a":[1}"#, #"{"a":{"b":1]}"#, #"{"a":[1]]}"#,
    ])
    func refusesWhatIsNotJSON(text: String) {
        #expect(throws: JSONObjectScanner.Failure.invalid) { try Self.scan(text) }
    }

    @Test(arguments: ["[]", "[1,{}]", "42", #""text""#, "null", "true"])
    func validJSONThatIsNotAnObject(text: String) {
        #expect(throws: JSONObjectScanner.Failure.notAnObject) { try Self.scan(text) }
    }

    @Test func nestingStopsAtFoundationsLimit() throws {
        func nested(_ depth: Int) -> String { #"{"a":"# + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1) + "}" }
        _ = try Self.scan(nested(JSONObjectScanner.maxDepth))
        #expect(throws: JSONObjectScanner.Failure.invalid) { try Self.scan(nested(JSONObjectScanner.maxDepth + 1)) }
        #expect((try? JSONDecoder().decode([String: [String: String]].self, from: Data(nested(JSONObjectScanner.maxDepth + 1).utf8))) == nil)
    }

    @Test func findsTopLevelMembersRaw() throws {
        #expect(try Self.scan(#"{"id": 42 ,"event" : "a.b"}"#) == [#""a.b""#, "42"])
        #expect(try Self.scan(#"{"x":{"event":"nested"},"id":{"k":[1,"}"]},"event":"top"}"#) == [#""top""#, #"{"k":[1,"}"]}"#])
        #expect(try Self.scan(#"{"event":"first","event":"second"}"#) == [#""first""#, nil], "the first counts, as in JSONDecoder")
        #expect(try Self.scan(#"{"ev\u0065nt":"escaped name","id":[]}"#) == [#""escaped name""#, "[]"])
        #expect(try Self.scan(#"{"events":"no","even":"no"}"#) == [nil, nil])
        #expect(try Self.scan(#"{"event":{}}"#) == ["{}", nil])
    }

    @Test func stringValues() {
        #expect(JSONObjectScanner.string(ArraySlice(#""plain""#.utf8)) == "plain")
        #expect(JSONObjectScanner.string(ArraySlice(#""a\"b\u00e9\ud83d\ude00""#.utf8)) == "a\"bé😀")
        #expect(JSONObjectScanner.string(ArraySlice("42".utf8)) == nil)
    }

    /// Every fixture, and thousands of byte-level mutations of them: whatever the scan accepts,
    /// the worker's `JSONDecoder` reads with the same `event` and id, and `JSONSerialization` (strict
    /// about numbers) accepts too unless a number is beyond `Double`'s range; whatever
    /// `JSONSerialization` accepts and the scan refuses has a trailing comma (Foundation's one
    /// leniency the scan does not share).
    @Test func agreesWithFoundationOnMutatedFixtures() throws {
        let fixtures =
            try ["webhook-confirmed.json", "webhook-modified.json", "webhook-cancelled.json"].map(fixture) + [
                Array(#"{"id":"evt_1","event":"booking.modified","n":[-1.5e3,0,{"x":null}],"s":"\u00e9\"\\"}"#.utf8),
                Array(#"[{"event":"booking.modified"},"event",12.5e-3,true,null]"#.utf8),
            ]
        let alphabet = Array(#"{}[]",:\ 0123456789.-+eEtrufalsn"#.utf8) + [0x0A, 0x09, 0xC3, 0xA9]
        let payloadScanner = WebhookPayload.scanner(idField: "id")
        var random = SeededRandom(seed: 0x5CA11)
        var outcomes: [String: Int] = [:]
        for round in 0..<12_000 {
            var body = fixtures[round % fixtures.count]
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let at = Int.random(in: 0..<body.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: body.remove(at: at)
                case 1: body.insert(alphabet.randomElement(using: &random)!, at: at)
                default: body[at] = alphabet.randomElement(using: &random)!
                }
                if body.isEmpty { body = [0x7B] }
            }
            let ours = Result { () throws(WebhookPayload.Rejection) in try WebhookPayload(body: body, scanner: payloadScanner) }
            let reference = Reference(body)
            let text = String(decoding: body, as: UTF8.self)
            switch ours {
            case .success(let payload):
                outcomes["accepted", default: 0] += 1
                #expect(reference.strict || text.contains(/[eE][+-]?[0-9]{3}/), "accepted what Foundation refuses: \(text)")
                #expect(reference.fields?.event == payload.event && reference.fields?.id == payload.eventID, "\(text)")
            case .failure(let rejection):
                outcomes["\(rejection)", default: 0] += 1
                if reference.strict, reference.fields?.event != nil {
                    #expect(text.contains(/,\s*[\]}]/), "refused what Foundation accepts: \(text)")
                }
            }
        }
        // The mutations reach every outcome, so the comparisons above ran on each side.
        #expect(outcomes.count == 4 && outcomes.values.allSatisfy { $0 > 100 }, "\(outcomes)")
    }

    /// What Foundation makes of a body: `JSONSerialization`'s verdict on the JSON, and the two
    /// fields as the worker's `JSONDecoder` reads them.
    struct Reference {
        /// `JSONSerialization` reads it as an object.
        var strict = false
        /// nil when `JSONDecoder` does not read it as an object.
        var fields: Fields?

        init(_ body: [UInt8]) {
            guard String(validating: body, as: UTF8.self) != nil else { return }
            strict = (try? JSONSerialization.jsonObject(with: Data(body), options: .fragmentsAllowed)) is [String: Any]
            fields = try? JSONDecoder().decode(Fields.self, from: Data(body))
        }

        struct Fields: Decodable {
            /// Non-empty, or nil.
            let event: String?
            let id: String?
            enum Key: CodingKey { case event, id }
            init(from decoder: any Decoder) throws {
                let object = try decoder.container(keyedBy: Key.self)
                event = (try? object.decodeIfPresent(String.self, forKey: .event)).flatMap { $0?.isEmpty == false ? $0 : nil }
                if let text = try? object.decodeIfPresent(String.self, forKey: .id), !text.isEmpty, text.utf8.count <= 256 {
                    id = text
                } else {
                    id = (try? object.decodeIfPresent(Int.self, forKey: .id)).flatMap { $0.map(String.init) }
                }
            }
        }
    }
}
