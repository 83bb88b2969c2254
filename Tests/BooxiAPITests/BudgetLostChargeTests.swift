@testable import BooxiAPI
import BooxiModels
import Foundation
import Logging
import RedisClient
import TestSupport
import Testing

/// The budget after its store lost writes (docs/scaling.md, "What keeps one slot"): a Redis
/// failover to a replica that had not received the latest charges, or a restart from older data.
/// Modelled exactly: the charge of a call in flight is removed, as the promoted replica would lack
/// it; the call's answer then finds it gone. The real scripts over real Redis, on a simulated clock.
@Suite("Booxi budget: a lost charge starts the budget again conservatively")
struct BudgetLostChargeTests {
    struct After {
        var settled: Int?
        var pausedUntil: Int64?
        var lastSecond: Int
        var lost: Int?
        var nextGrant: Bool
    }

    static let grantedAt: Int64 = 10_000_000
    static let answeredAt = grantedAt + 50

    func grantAndSettle(losingTheCharge: Bool) async throws -> After {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let policy = FairUsePolicy.booxi
        let scheduler = BooxiScheduler(redis: redis, keyPrefix: "lost:", policy: policy, requestTimeout: .seconds(2), logger: Logger(label: "test"))
        let keys = scheduler.keys
        let grant = try #require(try await scheduler.grantAtOnce(.visitor, ticket: 1, units: 1, now: Self.grantedAt))
        if losingTheCharge { try await redis.send("ZREM", keys.calls, grant.callID) }
        let settled = try await redis.eval(
            BooxiBudgetScripts.settle, keys: [keys.calls, keys.bell, keys.state, keys.stats],
            arguments: [grant.callID, String(Self.answeredAt), "200", 0, grant.units, policy.minSpacingMs, policy.perSecond]
        ).int
        let pausedUntil = try await redis.send("HGET", keys.state, "pausedUntil").string.flatMap(Int64.init)
        let lastSecond = try await redis.send("ZCOUNT", keys.calls, "(\(Self.answeredAt - 1000)", "+inf").int ?? -1
        let lost = try await redis.send("HGET", keys.stats, "lostCharges").string.flatMap(Int.init)
        // 150 ms after the answer: past the spacing, within the pause.
        let next = try await scheduler.grantAtOnce(.visitor, ticket: 2, units: 1, now: Self.answeredAt + 150) != nil
        return After(settled: settled, pausedUntil: pausedUntil, lastSecond: lastSecond, lost: lost, nextGrant: next)
    }

    @Test func aCallWhoseChargeIsGoneFillsTheSecondAndPausesEveryone() async throws {
        let after = try await grantAndSettle(losingTheCharge: true)
        #expect(after.settled == 2)
        #expect(after.pausedUntil == Self.answeredAt + 1_000)
        // The call charged again, and the second counted as full: perSecond more.
        #expect(after.lastSecond == 1 + FairUsePolicy.booxi.perSecond)
        #expect(after.lost == 1)
        #expect(!after.nextGrant)
    }

    @Test func anAnsweredCallStillChargedChangesNothing() async throws {
        let after = try await grantAndSettle(losingTheCharge: false)
        #expect(after.settled == 1)
        #expect(after.pausedUntil == nil)
        #expect(after.lastSecond == 1)
        #expect(after.lost == nil)
        #expect(after.nextGrant)
    }
}
