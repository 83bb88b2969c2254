import BooxiModels
import Foundation
@testable import ReadAPI
import Testing

/// Availability windows are whole UTC days, at most 14, from yesterday to the horizon, before they
/// reach the cache key: any `from`/`to` a visitor sends costs at most one Booxi call per window
/// and minute, and no value can trap the parser.
@Suite("Availability windows: normalised, bounded, total")
struct AvailabilityWindowTests {
    /// 2026-03-10T12:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_773_144_000)
    static let today = 1_773_144_000 / 86_400

    func window(_ from: String?, _ to: String?, horizon: Int = 365) throws(AvailabilityWindow.Refusal) -> AvailabilityWindow {
        try AvailabilityWindow(from: from, to: to, horizonDays: horizon, now: Self.now)
    }

    @Test func timesWithinTheSameDaysShareOneWindow() throws {
        let page = try window("2026-03-12T00:00:00Z", "2026-03-13T00:00:00Z")
        #expect(page == AvailabilityWindow(firstDay: Self.today + 2, days: 1))
        #expect(try window("2026-03-12T09:17:00Z", "2026-03-12T09:18:00.5Z") == page)
        #expect(try window("2026-03-12T23:59:59+00:00", "2026-03-13T00:00:00Z") == page)
        #expect(try window("2026-03-12T00:00:00Z", "2026-03-13T00:00:01Z").days == 2)
        #expect(page.from == ISO8601.parse("2026-03-12T00:00:00Z") && page.to == ISO8601.parse("2026-03-13T00:00:00Z"))
    }

    @Test func fourteenDaysAtMostFromYesterdayToTheHorizon() throws {
        #expect(try window("2026-03-11T00:00:00Z", "2026-03-25T00:00:00Z").days == 14)
        #expect(throws: AvailabilityWindow.Refusal.tooLong) { try window("2026-03-11T06:00:00Z", "2026-03-25T06:00:00Z") }
        #expect(try window("2026-03-09T08:00:00Z", "2026-03-10T00:00:00Z").firstDay == Self.today - 1)
        #expect(throws: AvailabilityWindow.Refusal.outOfBounds) { try window("2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z") }
        #expect(throws: AvailabilityWindow.Refusal.outOfBounds) { try window("2026-06-20T00:00:00Z", "2026-06-21T00:00:00Z", horizon: 90) }
        #expect(try window("2026-06-08T00:00:00Z", "2026-06-09T00:00:00Z", horizon: 90).firstDay == Self.today + 90)
    }

    /// Every window a visitor can ask for, whatever the values: the Booxi calls one booking can
    /// cause per cache lifetime are bounded by these keys.
    @Test func theWindowsOneServiceCanHaveAreBounded() throws {
        var windows = Set<String>()
        for offset in stride(from: -3 * 86_400, through: 400 * 86_400, by: 7_919) {
            for length in stride(from: 1, through: 20 * 86_400, by: 86_413) {
                let from = Self.now.addingTimeInterval(Double(offset))
                if let found = try? window(from.formatted(.iso8601), from.addingTimeInterval(Double(length)).formatted(.iso8601)) {
                    windows.insert("\(found.firstDay):\(found.days)")
                }
            }
        }
        #expect(windows.count <= (365 + 2) * AvailabilityWindow.maxDays)
    }

    @Test(arguments: [
        nil, "", "now", "-9223372036854775808", "9223372036854775807",
        "99999-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "2026-13-45T99:99:99Z",
        "2026-03-12T00:00:00Z\u{0}junk", "２０２６-03-12T00:00:00Z", "2026-03-12T00:00:00Z" + String(repeating: "0", count: 5_000),
        String(repeating: "9", count: 100_000), "1e308", "NaN", "../../etc/passwd", "😀",
    ])
    func hostileValuesAreRefusedWithoutATrap(value: String?) {
        for (from, to) in [(value, "2026-03-13T00:00:00Z"), ("2026-03-12T00:00:00Z", value), (value, value)] {
            #expect(throws: AvailabilityWindow.Refusal.self) { try window(from, to) }
        }
    }
}

/// The route over a running system: hostile values answer 400 in our JSON shape, and times within
/// the same day cost Booxi one call.
@Suite("Availability route: one Booxi call per window, 400 for the rest", .serialized)
struct AvailabilityRouteTests {
    @Test func hostileQueriesAnswer400AndOneDayCostsOneCall() async throws {
        let system = try await SystemTestCase.start()
        defer { Task { await system.finish() } }
        let code = try await system.book()
        let path = "/api/tracking/\(code)/availability"
        let day = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date().addingTimeInterval(5 * 86_400))
        let date = String(format: "%04d-%02d-%02d", day.year!, day.month!, day.day!)
        func calls() async throws -> Int {
            (try await system.simulator(.GET, "calls").json["GET /service/{id}/availability"] as? Int) ?? 0
        }
        let before = try await calls()
        for minute in 0..<5 {
            let reply = try await system.api("\(path)?serviceId=100&from=\(date)T10:0\(minute):00Z&to=\(date)T1\(minute + 1):00:00Z")
            #expect(reply.status == 200, "\(reply.body)")
        }
        #expect(try await calls() - before == 1)

        let hostile: [(String, String)] = [
            ("serviceId=100&from=\(date)T00:00:00Z", "invalid_range"),
            ("serviceId=100&from=-9223372036854775808&to=9223372036854775807", "invalid_range"),
            ("serviceId=100&from=\(String(repeating: "9", count: 2_000))&to=\(date)T00:00:00Z", "invalid_range"),
            ("serviceId=100&from=%00&to=%FF%FE", "invalid_range"),
            ("serviceId=100&from=1999-01-01T00:00:00Z&to=1999-01-02T00:00:00Z", "range_out_of_bounds"),
            ("serviceId=100&from=2999-01-01T00:00:00Z&to=2999-01-02T00:00:00Z", "range_out_of_bounds"),
            ("serviceId=9223372036854775808&from=\(date)T00:00:00Z&to=\(date)T23:00:00Z", "invalid_service"),
            ("serviceId=-1&from=\(date)T00:00:00Z&to=\(date)T23:00:00Z", "invalid_service"),
            ("serviceId=%F0%9F%98%80&from=\(date)T00:00:00Z&to=\(date)T23:00:00Z", "invalid_service"),
        ]
        for (query, errorCode) in hostile {
            let reply = try await system.api("\(path)?\(query)")
            #expect(reply.status == 400 && reply.json["code"] as? String == errorCode, "\(query): \(reply.status) \(reply.body)")
        }
        #expect(try await calls() - before == 1)
    }
}
