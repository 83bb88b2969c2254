import Foundation
import HTTPSupport
@testable import BooxiSimulator
@testable import Console
@testable import Ingress
@testable import ReadAPI
import TestSupport
import TrackingCore
import Testing

/// docs/errors.md against the one mapping of each role: every documented code is produced with
/// its status, and every code a mapping produces is documented.
@Suite("Error codes: the documentation and the mappings agree")
struct ErrorCatalogTests {
    struct Entry: Hashable, CustomStringConvertible {
        let code: String
        let status: Int
        var description: String { "\(code) \(status)" }
    }

    /// The first code in backticks and the status of every table row.
    static func documented() throws -> Set<Entry> {
        let text = try String(contentsOf: projectRoot.appendingPathComponent("docs/errors.md"), encoding: .utf8)
        var entries = Set<Entry>()
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, let status = Int(cells[1]) else { continue }
            let code = cells[0].split(separator: "`")[0]
            entries.insert(Entry(code: String(code), status: status))
            // "…; 422 when the worker found it so": the same code, a second status.
            if cells.count > 2, cells[2].contains("422 when") { entries.insert(Entry(code: String(code), status: 422)) }
        }
        return entries
    }

    static func produced() -> Set<Entry> {
        func entries(_ errors: [some HTTPMappedError]) -> [Entry] {
            errors.map { Entry(code: $0.apiError.code, status: Int($0.apiError.status.code)) }
        }
        var all = Set(entries(IngressError.everyCase) + entries(ReadAPIError.everyCase))
        all.formUnion(entries(SimulatorControlError.everyCase) + entries(EdgeError.everyCase) + entries(ConsoleError.everyCase))
        all.formUnion(OAuthError.everyCase.map { Entry(code: $0.code, status: Int($0.status.code)) })
        all.formUnion(
            JSONErrorMiddleware<AppRequestContext>.frameworkStatuses.map {
                Entry(code: JSONErrorMiddleware<AppRequestContext>.code(for: $0), status: Int($0.code))
            })
        all.insert(Entry(code: "internal", status: 500))
        return all
    }

    @Test func everyDocumentedCodeIsProducedAndEveryProducedCodeIsDocumented() throws {
        let documented = try Self.documented()
        let produced = Self.produced()
        #expect(documented.count > 40)
        #expect(documented.subtracting(produced).isEmpty, "documented but never produced: \(documented.subtracting(produced))")
        #expect(produced.subtracting(documented).isEmpty, "produced but not documented: \(produced.subtracting(documented))")
    }

    @Test func aRefusalsCodeSurvivesTheJobStatusRoundTrip() throws {
        for refusal in [CommandRefusal.busy, .unavailable, .refused, .rule(.tooLate), .booxi(code: "StaffNotAvailable")] {
            let json = try JSONEncoder().encode(refusal)
            #expect(try JSONDecoder().decode(CommandRefusal.self, from: json) == refusal)
            #expect(String(decoding: json, as: UTF8.self) == "\"\(refusal.code)\"")
        }
    }
}
