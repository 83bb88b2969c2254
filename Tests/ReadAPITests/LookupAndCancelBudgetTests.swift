import Foundation
import BooxiModels
import RedisClient
import TestSupport
import Testing
import TrackingCore

/// What a lookup and a cancel cost Redis, end to end over the whole system in one process (the
/// simulator as Booxi, the ingress, a worker, the API), counted by the server (`INFO
/// commandstats`, a script's own commands included). The roles' background (heartbeats, the
/// promoter, the fetchers' and the dispatcher's idle runs) is left out of a lookup's count by
/// counting only the commands a lookup runs, and taken off a cancel's at the rate measured before
/// the cancels without traffic. docs/scaling.md#per-event-budget states the budgets.
@Suite("Per-event budget: a lookup and a cancel, end to end", .serialized)
struct LookupAndCancelBudgetTests {
    static let commandsPerLookupMiss = 3.0
    static let commandsPerCancel = 50.0

    /// Faster than any visitor (the per-address throttles would answer 429); the lanes' idle
    /// `BLMOVE` at its usual pace rather than the test's 100 ms, so the background stays small.
    static let environment = [
        "BXT_API_LOOKUPS_PER_MINUTE_PER_IP": "100000", "BXT_API_ACTIONS_PER_MINUTE_PER_IP": "100000", "BXT_WORKER_BLOCK_TIMEOUT_MS": "2000",
    ]

    /// The background's commands per second, over a few seconds without traffic (its bursts, such
    /// as the lanes' heartbeats, average out).
    static func backgroundRate(_ system: SystemTestCase) async throws -> Double {
        let before = try await CommandCounts.read(system.redis)
        try await Task.sleep(for: .seconds(4))
        return Double((try await CommandCounts.read(system.redis) - before).total) / 4
    }

    static func seconds(_ duration: Duration) -> Double { duration / .seconds(1) }

    /// Creates bookings and waits until each is mapped with its copy (the prefetch done), without
    /// a lookup.
    static func bookings(_ system: SystemTestCase, count: Int) async throws -> [String] {
        var codes: [String] = []
        for index in 0..<count {
            let start = Calendar.current.startOfDay(for: Date().addingTimeInterval(Double(3 + index / 8) * 86_400))
                .addingTimeInterval(Double(8 + index % 8) * 3600)
            let reply = try await system.simulator(.POST, "bookings", #"{"serviceId":100,"startsOn":"\#(ISO8601.format(start))"}"#)
            codes.append(try #require(reply.json["trackingCode"] as? String))
        }
        for code in codes {
            // Their prefetches take a few seconds at the test's fair use, more beside other suites.
            try await system.waitUntil(timeout: .seconds(60)) {
                let id = try await system.bookingID(of: code)
                guard !id.isEmpty else { return false }
                return try await system.redis.send("HEXISTS", "bxt:{m}:booking:\(id)", CachedCopy.marker).int == 1
            }
        }
        return codes
    }

    @Test func aLookupMissCostsAtMost3CommandsAndAHitNone() async throws {
        let system = try await SystemTestCase.start(Self.environment)
        defer { Task { await system.finish() } }
        let codes = try await Self.bookings(system, count: 200)
        try await Task.sleep(for: .milliseconds(500))

        // First lookups: each code's record read once (the replica has never seen them).
        let started = ContinuousClock.now
        let before = try await CommandCounts.read(system.redis)
        for code in codes { #expect(try await system.api("/api/tracking/\(code)").status == 200) }
        let misses = try await CommandCounts.read(system.redis) - before
        // A lookup's own commands: its script, the code key's GET, the record's HGETALL. The
        // background runs no HGETALL and a script or a GET now and then (up to half a command per lookup on a loaded machine);
        // everything else it runs is left out, so a loaded machine does not change the figure.
        func own(_ counts: CommandCounts) -> Int { counts["evalsha"] + counts["get"] + counts["hgetall"] }
        let perMiss = Double(own(misses)) / Double(codes.count)
        #expect(misses["hgetall"] == codes.count, "\(misses)")
        #expect(perMiss <= Self.commandsPerLookupMiss + 0.5, "\(perMiss) commands per lookup miss: \(misses)")

        // The same codes again: answered from the replica's memory, kept right by key tracking.
        let again = ContinuousClock.now
        let beforeHits = try await CommandCounts.read(system.redis)
        for _ in 0..<2 {
            for code in codes { #expect(try await system.api("/api/tracking/\(code)").status == 200) }
        }
        let hits = try await CommandCounts.read(system.redis) - beforeHits
        let perHit = Double(own(hits)) / Double(2 * codes.count)
        #expect(hits["hgetall"] == 0, "\(hits)")
        #expect(perHit <= 0.25, "\(perHit) commands per lookup hit: \(hits)")
        print("budget: \(perMiss) commands per lookup miss (\(misses)); \(perHit) per hit, background included")
    }

    @Test func aCancelCostsAtMost50CommandsWithItsBooxiCallAndTheEchoedWebhook() async throws {
        let system = try await SystemTestCase.start(Self.environment)
        defer { Task { await system.finish() } }
        let codes = try await Self.bookings(system, count: 20)
        let rate = try await Self.backgroundRate(system)
        let booxiStats = "bxt:{r}:booxi:stats"
        let grantsBefore = try await system.redis.hgetall(booxiStats)
        var spent = 0
        var elapsed = Duration.zero
        var shape = CommandCounts(calls: [:])
        for code in codes {
            // The visitor has the page open (not counted), then cancels.
            #expect(try await system.api("/api/tracking/\(code)").status == 200)
            let bookingID = try await system.bookingID(of: code)
            let started = ContinuousClock.now
            let before = try await CommandCounts.read(system.redis)
            let cancelled = try await system.api(.POST, "/api/tracking/\(code)/cancel")
            #expect(cancelled.status == 200, "\(cancelled.body)")
            // Booxi's echo of the cancellation, applied: the record's last event.
            var polls = 0
            try await system.waitUntil {
                polls += 1
                return try await system.redis.send("HGET", "bxt:{m}:booking:\(bookingID)", "event").string == "booking.cancelled"
            }
            try await Task.sleep(for: .milliseconds(50))
            let window = try await CommandCounts.read(system.redis) - before
            spent += window.total - polls
            shape = shape + window
            elapsed += ContinuousClock.now - started
        }
        let background = rate * Self.seconds(elapsed)
        let perCancel = (Double(spent) - background) / Double(codes.count)
        #expect(perCancel <= Self.commandsPerCancel, "\(perCancel) commands per cancel: \(shape), background \(background)")
        // One Booxi call each (the PUT; its answer is the new copy), in the command class.
        let grants = try await system.redis.hgetall(booxiStats)
        func count(_ fields: [String: [UInt8]]) -> Int {
            ["atOnce:1", "calls:1"].reduce(0) { $0 + (fields[$1].flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? 0) }
        }
        #expect(count(grants) - count(grantsBefore) == codes.count, "\(shape)")
        print("budget: \(perCancel) commands per cancel, end to end; \(shape) (background \(background) over \(codes.count) windows)")
    }
}
