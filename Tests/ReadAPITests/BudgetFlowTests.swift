import BooxiAPI
import BooxiModels
import Foundation
import TrackingCore
import Testing

/// Booxi's budget end to end: the simulator enforces fair use, the worker prefetches, the API
/// never makes a visitor pay for our own queue.
@Suite("Booxi budget: prefetch, priority, no 503 for our own queue", .serialized)
struct BudgetFlowTests {
    /// Creates `count` bookings in the simulator (each fires `booking.confirmed`) and waits until
    /// their codes resolve in Redis, without looking them up.
    func createBookings(_ system: SystemTestCase, count: Int, firstHour: Int = 8) async throws -> [String] {
        var codes: [String] = []
        for index in 0..<count {
            let start = Calendar.current.startOfDay(for: Date().addingTimeInterval(Double(3 + index / 8) * 86_400))
                .addingTimeInterval(Double(firstHour + index % 8) * 3600)
            let reply = try await system.simulator(.POST, "bookings", #"{"serviceId":100,"startsOn":"\#(ISO8601.format(start))"}"#)
            codes.append(try #require(reply.json["trackingCode"] as? String))
        }
        for code in codes { try await system.waitUntil { try await system.bookingID(of: code) != "" } }
        return codes
    }

    func prefetchesQueued(_ system: SystemTestCase) async throws -> Int {
        try await system.redis.send("ZCARD", "bxt:{m}:fetch:prefetch").int ?? 0
    }

    @Test func aConfirmedBookingIsFetchedBeforeItsVisitorAsks() async throws {
        let system = try await SystemTestCase.start()
        defer { Task { await system.finish() } }
        let code = try #require(try await createBookings(system, count: 1).first)
        let record = "bxt:{m}:booking:\(try await system.bookingID(of: code))"
        try await system.waitUntil { try await system.redis.send("HEXISTS", record, CachedCopy.marker).int == 1 }
        let calls = try await system.bookingCalls()
        #expect(calls == 1)
        let lookup = try await system.api("/api/tracking/\(code)")
        #expect(lookup.status == 200 && lookup.json["serviceName"] as? String == "Haircut")
        #expect(try await system.bookingCalls() == calls)
    }

    @Test func withTheBudgetSaturatedByPrefetchesACancelGoesNext() async throws {
        let slow = FairUsePolicy(perSecond: 2, perMinute: 120, minSpacingMs: 10)
        let system = try await SystemTestCase.start(["BXT_API_COMMAND_WAIT_MS": "0"], fairUse: slow)
        defer { Task { await system.finish() } }
        let codes = try await createBookings(system, count: 16)
        // 16 prefetches at 2 a second: about 8 s of budget. The visitor cancels the last booking.
        let target = try #require(codes.last)
        let started = ContinuousClock.now
        let cancel = try await system.api(.POST, "/api/tracking/\(target)/cancel")
        #expect(cancel.status == 202, "\(cancel.body)")
        let statusURL = try #require(cancel.json["statusUrl"] as? String)
        try await system.waitUntil { try await system.api(statusURL).json["state"] as? String == "succeeded" }
        let took = ContinuousClock.now - started
        // Its calls (the booking's details, then the PUT) went ahead of every prefetch still queued.
        let stillQueued = try await prefetchesQueued(system)
        #expect(took < .seconds(3), "cancel took \(took)")
        #expect(stillQueued >= 6, "only \(stillQueued) prefetches left: the cancel waited behind them")
        #expect(try await system.api("/api/tracking/\(target)").json["status"] as? String == "Cancelled")
        #expect(try await system.fairUse()["refused"] as? Int == 0)
    }

    @Test func noVisitorGets503BecauseOurQueueIsLong() async throws {
        let slow = FairUsePolicy(perSecond: 2, perMinute: 120, minSpacingMs: 10)
        let system = try await SystemTestCase.start(
            [
                "BXT_API_FETCH_WAIT_MS": "300", "BXT_API_COMMAND_WAIT_MS": "200", "BXT_API_ACTIONS_PER_MINUTE_PER_IP": "1000",
                "BXT_API_LOOKUPS_PER_MINUTE_PER_IP": "100000",
            ],
            fairUse: slow)
        defer { Task { await system.finish() } }
        let codes = try await createBookings(system, count: 24)
        // Lookups of bookings not fetched yet: 200 if their turn came within 300 ms, else 202 "preparing".
        var lookups: [Int: Int] = [:]
        for code in codes.prefix(8) {
            let reply = try await system.api("/api/tracking/\(code)")
            lookups[reply.status, default: 0] += 1
            if reply.status == 202 {
                #expect(reply.json["code"] as? String == "preparing" && Int(reply.headers.first(name: "retry-after") ?? "") ?? 0 >= 1)
            }
        }
        #expect(Set(lookups.keys).isSubset(of: [200, 202]) && lookups[202, default: 0] > 0, "\(lookups)")
        // Ten visitors cancel at once: every one is accepted.
        let targets = Array(codes.suffix(10))
        let replies = try await withThrowingTaskGroup(of: SystemTestCase.Reply.self) { group in
            for code in targets { group.addTask { try await system.api(.POST, "/api/tracking/\(code)/cancel") } }
            return try await group.reduce(into: [SystemTestCase.Reply]()) { $0.append($1) }
        }
        #expect(replies.allSatisfy { [200, 202].contains($0.status) }, "\(replies.map { "\($0.status) \($0.body)" })")
        for code in targets {
            try await system.waitUntil(timeout: .seconds(30)) {
                try await system.api("/api/tracking/\(code)").json["status"] as? String == "Cancelled"
            }
        }
        // A preparing booking answers once a worker fetched it.
        for code in codes.prefix(8) {
            try await system.waitUntil(timeout: .seconds(30)) { try await system.api("/api/tracking/\(code)").status == 200 }
        }
        #expect(try await system.fairUse()["refused"] as? Int == 0)
        #expect(!system.logs.text.contains("answered 503"))
    }
}
