import BooxiModels
import Foundation
import Logging
import RedisClient
import ServiceLifecycle
import Synchronization

/// The one Booxi call budget of all processes (workers, API replicas, the admin CLI), kept in
/// Redis. A caller queues with its class and is granted a call when Booxi's fair use allows one,
/// highest class first and in order of arrival within a class; nobody polls.
///
/// - Every process runs this service: it receives its callers' grants (one `BLPOP` on its own
///   list) and competes for the dispatcher lease. The process holding the lease runs the
///   dispatch script whenever budget frees up or a caller arrives, and sleeps in between.
/// - The windows are exact across processes: see ``BooxiBudgetScripts`` for how a call is charged.
/// - Lower classes never delay a higher one by more than the call already granted: each grant goes
///   to the best caller waiting at that instant.
public final class BooxiScheduler: Service, Sendable {
    public let policy: FairUsePolicy
    let redis: RedisClient
    let keys: BooxiBudgetKeys
    /// How long a call may stay in flight before its budget is given back by time alone.
    let inFlightMs: Int
    let processID: String
    let waiters = GrantWaiters()
    let doorbell = Doorbell()
    let leading = Atomic<Bool>(false)
    private let tickets = Atomic<UInt64>(0)
    let metrics: BooxiBudgetMetrics
    let logger: Logger

    static let aliveTTLMs = 5_000
    static let leaseTTL = Duration.seconds(3)

    public init(redis: RedisClient, keyPrefix: String, policy: FairUsePolicy, requestTimeout: Duration, logger: Logger) {
        self.redis = redis
        self.keys = BooxiBudgetKeys(prefix: keyPrefix)
        self.policy = policy
        self.inFlightMs = Int(requestTimeout.milliseconds) + 1_000
        self.processID = "\(ProcessInfo.processInfo.hostName.prefix(40))-\(getpid())-\(UUID().uuidString.prefix(8))"
            .replacingOccurrences(of: "|", with: "-")
        self.metrics = BooxiBudgetMetrics(policy: policy)
        self.logger = logger
    }

    /// Waits for permission to make one call of `callClass`; throws ``BooxiError/budgetBusy(_:waited:)``
    /// when none came within `wait`, and `CancellationError` when cancelled. `mayBeRefused` calls
    /// (Booxi may answer 400, which counts twice) hold a second unit until answered.
    public func acquire(_ callClass: BooxiCallClass, wait: Duration, mayBeRefused: Bool = false) async throws -> BooxiGrant {
        let ticket = tickets.add(1, ordering: .relaxed).newValue
        let units = mayBeRefused ? 2 : 1
        if let grant = try await grantAtOnce(callClass, ticket: ticket, units: units, now: nil) {
            metrics.granted(grant)
            return grant
        }
        let started = ContinuousClock.now
        waiters.open(ticket)
        let member: String
        do {
            member =
                try await redis.eval(
                    BooxiBudgetScripts.register, keys: [keys.queue, keys.sequence, keys.bell, keys.alive(processID), keys.state],
                    arguments: [
                        callClass.rawValue, processID, String(ticket), "", max(1, Int(wait.milliseconds)), Self.aliveTTLMs, units,
                    ]
                ).string ?? ""
        } catch {
            waiters.discard(ticket)
            throw error
        }
        if leading.load(ordering: .relaxed) { doorbell.ring() }
        let timer = Task { [waiters] in
            try await Task.sleep(until: started + wait)
            waiters.end(ticket, WaitExpired())
        }
        defer { timer.cancel() }
        do {
            let queued = try await waiters.wait(ticket)
            let grant = BooxiGrant(callID: queued.callID, callClass: queued.callClass, waited: queued.waited, units: units)
            metrics.granted(grant)
            return grant
        } catch {
            // Still queued: withdrawn (in a task of its own, as a cancelled one would not reach Redis).
            // Granted meanwhile: the listener finds nobody and gives the call back.
            await Task { [redis, keys] in _ = try? await redis.eval(BooxiBudgetScripts.withdraw, keys: [keys.queue], arguments: [member]) }.value
            guard error is WaitExpired else { throw error }
            metrics.expired(callClass)
            throw BooxiError.budgetBusy(callClass.description, waited: ContinuousClock.now - started)
        }
    }

    /// The fast path: when nobody waits and the budget has room, the call is charged and granted in
    /// one script, without the queue, the dispatcher or a grant list. `now` (ms) replaces Redis'
    /// clock in tests.
    func grantAtOnce(_ callClass: BooxiCallClass, ticket: UInt64, units: Int, now: Int64?) async throws -> BooxiGrant? {
        let callID = "\(processID)/\(ticket)"
        let granted = try await redis.eval(
            BooxiBudgetScripts.grantAtOnce, keys: [keys.queue, keys.calls, keys.state, keys.stats],
            arguments: [
                now.map(String.init) ?? "", policy.perSecond, policy.perMinute, policy.inFlightHoldMs, inFlightMs,
                callClass.rawValue, callID, units,
            ])
        guard granted.int == 1 else { return nil }
        return BooxiGrant(callID: callID, callClass: callClass, waited: .zero, units: units)
    }

    /// How a granted call ended.
    public enum Outcome: Sendable, Equatable {
        /// Booxi answered with this status.
        case answered(status: Int, retryAfter: Duration?)
        /// No answer: the call may or may not have reached Booxi, so it stays charged.
        case noAnswer
    }

    /// Records the answer: a 400 stays charged twice, a 429 pauses every process until its
    /// `Retry-After` has passed.
    public func settle(_ grant: BooxiGrant, _ outcome: Outcome) async {
        let (label, retryAfterMs): (String, Int) =
            switch outcome {
            case .answered(let status, let retryAfter): (String(status), Int((retryAfter ?? .seconds(1)).milliseconds))
            case .noAnswer: ("transport", 0)
            }
        if case .answered(429, _) = outcome { metrics.rateLimited.increment() }
        await runSettle(grant, label, retryAfterMs)
    }

    /// Gives back a grant whose call was never made.
    public func release(_ grant: BooxiGrant) async {
        await runSettle(grant, "unused", 0)
    }

    private func runSettle(_ grant: BooxiGrant, _ outcome: String, _ retryAfterMs: Int) async {
        do {
            let settled = try await redis.eval(
                BooxiBudgetScripts.settle, keys: [keys.calls, keys.bell, keys.state, keys.stats],
                arguments: [grant.callID, "", outcome, retryAfterMs, grant.units, policy.minSpacingMs, policy.perSecond])
            if settled.int == 2 {
                metrics.lostCharges.increment()
                logger.warning(
                    "the Booxi budget's store lost a charge (a Redis failover or restart): every process pauses 1 s and the last second counts as full"
                )
            }
        } catch {
            // The charge then stands until it ages out: the budget errs on the safe side.
            logger.warning("could not record a Booxi call's answer", metadata: ["error": "\(error)"])
        }
    }

    /// Whether this process holds the dispatcher lease now.
    public var isDispatching: Bool { leading.load(ordering: .relaxed) }

    struct WaitExpired: Error {}
}
