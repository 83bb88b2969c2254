import Foundation
import RedisClient
import Synchronization

/// Token buckets per client address plus one global bucket, in this process (each API replica
/// enforces its own share; put the replicas behind one load balancer and divide the global
/// figure by their number). Used separately for lookups and for actions.
final class RequestThrottle: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let perClientPerMinute: Double
    private let globalPerSecond: Double
    private let state: Mutex<(clients: [String: Bucket], global: Bucket, sweep: ContinuousClock.Instant)>

    init(perClientPerMinute: Int, globalPerSecond: Int) {
        self.perClientPerMinute = Double(perClientPerMinute)
        self.globalPerSecond = Double(globalPerSecond)
        let now = ContinuousClock.now
        state = Mutex(([:], Bucket(tokens: Double(globalPerSecond), updated: now), now))
    }

    /// Nil when the request may go on, else the seconds to wait (for `Retry-After`).
    func admit(client: String) -> Int? {
        let now = ContinuousClock.now
        return state.withLock { state in
            if now - state.sweep > .seconds(60) {
                // Forget clients whose bucket has refilled; keeps memory flat under address churn.
                state.clients = state.clients.filter { now - $0.value.updated < .seconds(60) }
                state.sweep = now
            }
            var global = Self.refilled(state.global, now: now, perSecond: globalPerSecond, capacity: globalPerSecond)
            var bucket = Self.refilled(
                state.clients[client] ?? Bucket(tokens: perClientPerMinute, updated: now), now: now,
                perSecond: perClientPerMinute / 60, capacity: perClientPerMinute)
            defer {
                state.global = global
                state.clients[client] = bucket
            }
            guard bucket.tokens >= 1 else { return Int(((1 - bucket.tokens) / (perClientPerMinute / 60)).rounded(.up)) }
            guard global.tokens >= 1 else { return 1 }
            bucket.tokens -= 1
            global.tokens -= 1
            return nil
        }
    }

    private static func refilled(_ bucket: Bucket, now: ContinuousClock.Instant, perSecond: Double, capacity: Double) -> Bucket {
        Bucket(tokens: min(capacity, bucket.tokens + (now - bucket.updated).seconds * perSecond), updated: now)
    }
}
