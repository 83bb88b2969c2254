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
/// it; the call's answer then finds it gone.
@Suite("Booxi budget: a lost charge starts the budget again conservatively")
struct BudgetLostChargeTests {
    func grantAndSettle(losingTheCharge: Bool) async throws -> (state: [String: String], lastSecond: Int, lost: Int?, nextGrant: Bool) {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let policy = FairUsePolicy.booxi
        let scheduler = BooxiScheduler(redis: redis, keyPrefix: "lost:", policy: policy, requestTimeout: .seconds(2), logger: Logger(label: "test"))
        let keys = scheduler.keys
        let grant = try #require(try await scheduler.grantAtOnce(.visitor, ticket: 1, units: 1, now: nil))
        if losingTheCharge { try await redis.send("ZREM", keys.calls, grant.callID) }
        await scheduler.settle(grant, .answered(status: 200, retryAfter: nil))
        let state = try await redis.send("HGETALL", keys.state).array?.compactMap(\.string) ?? []
        let pairs = Dictionary(uniqueKeysWithValues: stride(from: 0, to: state.count - 1, by: 2).map { (state[$0], state[$0 + 1]) })
        let time = try await redis.send("TIME").array?.compactMap(\.string).compactMap(Int64.init) ?? []
        let now = time[0] * 1000 + time[1] / 1000
        let lastSecond = try await redis.send("ZCOUNT", keys.calls, "(\(now - 1000)", "+inf").int ?? -1
        let lost = try await redis.send("HGET", keys.stats, "lostCharges").string.flatMap(Int.init)
        // Well past the spacing, still within the second.
        try await Task.sleep(for: .milliseconds(150))
        let next = try await scheduler.grantAtOnce(.visitor, ticket: 2, units: 1, now: nil) != nil
        return (pairs, lastSecond, lost, next)
    }

    @Test func aCallWhoseChargeIsGoneFillsTheSecondAndPausesEveryone() async throws {
        let after = try await grantAndSettle(losingTheCharge: true)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let pausedUntil = try #require(after.state["pausedUntil"].flatMap(Int64.init))
        #expect(pausedUntil > now + 500 && pausedUntil <= now + 1_100)
        // The call charged again, and the second counted as full: perSecond more.
        #expect(after.lastSecond == 1 + FairUsePolicy.booxi.perSecond)
        #expect(after.lost == 1)
        #expect(!after.nextGrant)
    }

    @Test func anAnsweredCallStillChargedChangesNothing() async throws {
        let after = try await grantAndSettle(losingTheCharge: false)
        #expect(after.state["pausedUntil"] == nil)
        #expect(after.lastSecond == 1)
        #expect(after.lost == nil)
        #expect(after.nextGrant)
    }
}
