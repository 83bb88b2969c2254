@testable import BooxiAPI
@testable import BooxiSimulator
import BooxiModels
import Foundation
import Logging
import RedisClient
import TestSupport
import Testing

/// The budget's scripts, driven over real Redis on a simulated clock: random callers of every
/// class arrive, calls take random times, some are answered 400 or 429, some never answered (a
/// crashed process). Every window Booxi could check is then checked, with each call arriving at
/// Booxi at a random moment between its grant and its answer, as a network would deliver it.
@Suite("Fair use, property", .serialized, .tags(.slow), .fullTierOnly)
struct FairUsePropertyTests {
    struct Call {
        var grantedAt: Int64
        var callClass: Int
        var answeredAt: Int64?
        var status: Int
        var arrivedAt: Int64
    }

    @Test(arguments: [
        (FairUsePolicy(perSecond: 5, perMinute: 300, minSpacingMs: 10), UInt64(1)),
        (FairUsePolicy(perSecond: 5, perMinute: 30, minSpacingMs: 10), UInt64(2)),
        (FairUsePolicy(perSecond: 3, perMinute: 20, minSpacingMs: 150), UInt64(3)),
        (FairUsePolicy(perSecond: 10, perMinute: 100, minSpacingMs: 0), UInt64(4)),
        (FairUsePolicy(perSecond: 5, perMinute: 300, minSpacingMs: 10), UInt64(5)),
    ])
    func everyWindowHoldsUnderRandomTraffic(policy: FairUsePolicy, seed: UInt64) async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let scheduler = BooxiScheduler(redis: redis, keyPrefix: "prop:", policy: policy, requestTimeout: .seconds(2), logger: Logger(label: "test"))
        let keys = scheduler.keys
        var random = SeededRandom(seed: seed)
        try await redis.send("SET", keys.alive("p"), "1")

        var now: Int64 = 10_000_000
        let end = now + 150_000
        var ticket = 0
        var waiting: [(member: String, callClass: Int, ticket: Int, units: Int)] = []
        var calls: [String: Call] = [:]
        var pending: [(at: Int64, call: String)] = []
        var pauses: [(from: Int64, until: Int64)] = []
        var grantOrder: [(callClass: Int, ticket: Int)] = []
        var unitsOf: [String: Int] = [:]
        func made(_ id: String, callClass: Int, units: Int) {
            let latency = Int64.random(in: 1...400, using: &random)
            let roll = Int.random(in: 0..<100, using: &random)
            let status = roll < 15 && units == 2 ? 400 : roll < 17 ? 429 : 200
            let crashed = roll >= 98
            calls[id] = Call(
                grantedAt: now, callClass: callClass, answeredAt: crashed ? nil : now + latency, status: status,
                arrivedAt: now + Int64.random(in: 0...latency, using: &random))
            unitsOf[id] = units
            if !crashed { pending.append((now + latency, id)) }
        }

        while now < end {
            // Arrivals: bursts, lulls, every class.
            let arrivals = Int.random(in: 0...100, using: &random) < 8 ? Int.random(in: 1...12, using: &random) : 0
            for _ in 0..<arrivals {
                ticket += 1
                let callClass = Int.random(in: 1...4, using: &random)
                // Calls Booxi may refuse (PUTs, availability) reserve a second unit; reads do not.
                let units = Int.random(in: 1...3, using: &random) == 1 ? 2 : 1
                // Nobody waiting and room in the budget: granted on arrival, as `acquire` does first.
                if waiting.isEmpty,
                    let grant = try await scheduler.grantAtOnce(
                        try #require(BooxiCallClass(rawValue: callClass)), ticket: UInt64(ticket), units: units, now: now)
                {
                    grantOrder.append((callClass, ticket))
                    made(grant.callID, callClass: callClass, units: units)
                    continue
                }
                let member =
                    try await redis.eval(
                        BooxiBudgetScripts.register, keys: [keys.queue, keys.sequence, keys.bell, keys.alive("p"), keys.state],
                        arguments: [callClass, "p", String(ticket), String(now), 10_000_000, 100_000_000, units]
                    ).string ?? ""
                waiting.append((member, callClass, ticket, units))
            }
            // Answers due by now.
            for (at, id) in pending where at <= now {
                let call = calls[id]!
                let retryAfter = call.status == 429 ? Int.random(in: 500...3_000, using: &random) : 0
                if call.status == 429 { pauses.append((at, at + Int64(retryAfter))) }
                try await redis.eval(
                    BooxiBudgetScripts.settle, keys: [keys.calls, keys.bell, keys.state, keys.stats],
                    arguments: [id, String(at), String(call.status), retryAfter, unitsOf[id] ?? 2, policy.minSpacingMs])
            }
            pending.removeAll { $0.at <= now }
            // The dispatcher grants all it may now.
            var step = try await scheduler.dispatchOnce(now: now)
            while step.granted {
                let head = waiting.enumerated().min { ($0.element.callClass, $0.element.ticket) < ($1.element.callClass, $1.element.ticket) }!
                let grant = try #require(try await redis.send("RPOP", keys.grants("p")).string)
                let parts = grant.split(separator: " ")
                let granted = Int(parts[0])!
                #expect(
                    granted == head.element.ticket, "granted \(granted), but \(head.element.ticket) of class \(head.element.callClass) waited first")
                let units = head.element.units
                waiting.removeAll { $0.ticket == granted }
                grantOrder.append((Int(parts[3])!, granted))
                made(String(parts[1]), callClass: Int(parts[3])!, units: units)
                step = try await scheduler.dispatchOnce(now: now)
            }
            now +=
                step.waitMs > 0 ? Int64.random(in: 1...Int64(max(1, min(step.waitMs, 60))), using: &random) : Int64.random(in: 1...40, using: &random)
        }

        // Booxi's view: each call where it arrived, a 400's second charge when it was answered.
        var charges: [FairUseMeter.Charge] = []
        for call in calls.values {
            charges.append(.init(at: call.arrivedAt, weight: 1))
            if call.status == 400, let answered = call.answeredAt { charges.append(.init(at: answered, weight: 1)) }
        }
        // The budget is spent, not wasted: demand always exceeds it here, yet pauses, crashed calls and
        // the time calls spend in flight (a grant holds its window until one window after the answer)
        // keep it below the limit.
        let ceiling = min(policy.perSecond * 150, policy.perMinute * 150 / 60)
        #expect(calls.count * 10 >= ceiling * 4, "\(calls.count) calls of at most \(ceiling)")
        #expect(FairUseMeter.busiest(charges, width: 1_000) <= policy.perSecond)
        #expect(FairUseMeter.busiest(charges, width: 60_000) <= policy.perMinute)
        // Spacing between grants.
        let grants = calls.values.map(\.grantedAt).sorted()
        #expect(zip(grants, grants.dropFirst()).allSatisfy { $1 - $0 >= Int64(policy.minSpacingMs) })
        // Nothing granted while a 429's pause ran.
        #expect(grants.allSatisfy { at in !pauses.contains { at >= $0.from && at < $0.until } })
        // Within a class, first come first served.
        for callClass in 1...4 {
            let tickets = grantOrder.filter { $0.callClass == callClass }.map(\.ticket)
            #expect(tickets == tickets.sorted())
        }
    }

    @Test func readsSpendTheWholeBudget() async throws {
        // Reads reserve nothing: back to back, they get every one of the policy's calls.
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let policy = FairUsePolicy.booxi
        let scheduler = BooxiScheduler(redis: redis, keyPrefix: "prop:", policy: policy, requestTimeout: .seconds(2), logger: Logger(label: "test"))
        let keys = scheduler.keys
        try await redis.send("SET", keys.alive("p"), "1")
        var now: Int64 = 10_000_000
        for ticket in 1...400 {
            try await redis.eval(
                BooxiBudgetScripts.register, keys: [keys.queue, keys.sequence, keys.bell, keys.alive("p"), keys.state],
                arguments: [3, "p", String(ticket), String(now), 10_000_000, 100_000_000, 1])
        }
        var grants: [Int64] = []
        while now < 10_060_000 {
            let step = try await scheduler.dispatchOnce(now: now)
            if step.granted {
                let call = String(try #require(try await redis.send("RPOP", keys.grants("p")).string).split(separator: " ")[1])
                grants.append(now)
                try await redis.eval(
                    BooxiBudgetScripts.settle, keys: [keys.calls, keys.bell, keys.state, keys.stats],
                    arguments: [call, String(now + 2), "200", 0, 1, policy.minSpacingMs])
            } else {
                now += Int64(max(1, step.waitMs))
            }
        }
        // A minute of 2 ms reads: 300 calls, 5 in every second after the first.
        #expect(grants.count == policy.perMinute)
        #expect(FairUseMeter.busiest(grants.map { .init(at: $0, weight: 1) }, width: 1_000) == policy.perSecond)
    }
}
