@testable import BooxiAPI
import BooxiModels
import Foundation
import Logging
import RedisClient
import TestSupport
import Testing

/// What one Booxi call costs Redis to queue, grant, dispatch and settle, with the scheduler's
/// service running as in every role (its dispatcher, grant listener and liveness key included).
/// Calls come one at a time with room in the budget: the fast path, one script to grant and one
/// to settle.
@Suite("Per-event budget: Redis commands per Booxi call", .serialized)
struct BooxiCallBudgetTests {
    static let commandsPerCall = 15.0

    @Test(arguments: [false, true])
    func aBooxiCallCostsAtMost15Commands(mayBeRefused: Bool) async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        // Booxi's windows with room for every call; the spacing is kept (each call comes after it).
        let policy = FairUsePolicy(perSecond: 100_000, perMinute: 10_000_000, minSpacingMs: 1)
        let scheduler = BooxiScheduler(redis: redis, keyPrefix: "bxt:", policy: policy, requestTimeout: .seconds(5), logger: Logger(label: "test"))
        let service = Task { try await scheduler.run() }
        func call(status: Int) async throws {
            let grant = try await scheduler.acquire(.visitor, wait: .seconds(5), mayBeRefused: mayBeRefused)
            await scheduler.settle(grant, .answered(status: status, retryAfter: nil))
            try await Task.sleep(for: .milliseconds(policy.dispatchSpacingMs + 1))
        }
        for _ in 0..<20 { try await call(status: 200) }

        let before = try await CommandCounts.read(redis)
        let calls = 1_000
        for index in 0..<calls { try await call(status: index % 10 == 0 ? 404 : 200) }
        let spent = try await CommandCounts.read(redis) - before
        let perCall = Double(spent.total) / Double(calls)
        #expect(perCall <= Self.commandsPerCall, "\(perCall) commands per Booxi call: \(spent)")
        // Every call took the fast path (one script to grant it, one to settle it): nobody queued,
        // no grant went through a list, no bell rang.
        #expect(spent["lpush"] == 0 && spent["incr"] == 0, "\(spent)")
        #expect(try await redis.send("HGET", scheduler.keys.stats, "atOnce:\(BooxiCallClass.visitor.rawValue)").string == String(calls + 20))
        print("budget: \(perCall) commands per Booxi call (\(mayBeRefused ? "may be refused: 2 units" : "a read: 1 unit")); \(spent)")
        service.cancel()
        _ = await service.result
        await redis.shutdown()
    }
}
