import Foundation
import HTTPSupport
import RedisClient
import Synchronization

/// Token buckets per client (``ClientBucket``: an IPv6 client is its /64) plus one global bucket,
/// in this process (each API replica enforces its own share; put the replicas behind one load
/// balancer and divide the global figure by their number). Used separately for lookups and for
/// actions. The clients' table is a ``ClientTable``: bounded, its size in a gauge.
final class RequestThrottle: Sendable {
    /// Clients tracked at once, per throttle: about 100 bytes each.
    static let defaultCapacity = 50_000

    private struct State {
        /// Each client's tokens, as of the entry's `touched`.
        var clients: ClientTable<Double>
        var global: Double
        var globalUpdated: ContinuousClock.Instant
        var sweep: ContinuousClock.Instant
    }

    private let perClientPerMinute: Double
    private let globalPerSecond: Double
    private let state: Mutex<State>

    /// `name` labels the table's gauge (`api_lookups`, `api_actions`).
    init(perClientPerMinute: Int, globalPerSecond: Int, name: String, capacity: Int = defaultCapacity) {
        self.perClientPerMinute = Double(perClientPerMinute)
        self.globalPerSecond = Double(globalPerSecond)
        let now = ContinuousClock.now
        // A bucket idle for a minute has refilled: it carries nothing a fresh one would not.
        let clients = ClientTable<Double>(capacity: capacity, idle: .seconds(60), table: name)
        state = Mutex(State(clients: clients, global: Double(globalPerSecond), globalUpdated: now, sweep: now))
    }

    /// Nil when the request may go on, else the seconds to wait (for `Retry-After`).
    func admit(client: ClientBucket, now: ContinuousClock.Instant = .now) -> Int? {
        state.withLock { state in
            if now - state.sweep > .seconds(60) {
                // Memory falls back after address churn, not only when the table is full.
                state.clients.removeIdle(now: now)
                state.sweep = now
            }
            var global = Self.refilled(state.global, since: state.globalUpdated, now: now, perSecond: globalPerSecond, capacity: globalPerSecond)
            var tokens =
                state.clients[client].map {
                    Self.refilled($0.value, since: $0.touched, now: now, perSecond: perClientPerMinute / 60, capacity: perClientPerMinute)
                } ?? perClientPerMinute
            defer {
                state.global = global
                state.globalUpdated = now
                state.clients.set(tokens, for: client, now: now)
            }
            guard tokens >= 1 else { return Int(((1 - tokens) / (perClientPerMinute / 60)).rounded(.up)) }
            guard global >= 1 else { return 1 }
            tokens -= 1
            global -= 1
            return nil
        }
    }

    /// Clients tracked now (tests; the gauge reports it too).
    var trackedClients: Int { state.withLock { $0.clients.count } }

    private static func refilled(
        _ tokens: Double, since updated: ContinuousClock.Instant, now: ContinuousClock.Instant, perSecond: Double, capacity: Double
    ) -> Double {
        min(capacity, tokens + max(0, (now - updated).seconds) * perSecond)
    }
}
