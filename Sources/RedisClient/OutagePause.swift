import Logging
import Synchronization

/// How every background loop waits out Redis being unreachable (``OutagePolicy``): a warning when
/// it becomes unreachable, another once a minute while it stays so, a notice when it is back, each
/// with how long it has been; in between, exponential backoff with jitter (100 ms up to 5 s).
///
/// A loop calls ``failed(_:)`` when a round trip fails and ``succeeded()`` when one works. Shared
/// by reference, so several loops of one service (or a callback on another thread, such as a
/// subscription's "subscribed") can report into one outage and log it once.
public final class OutagePause: Sendable {
    let activity: String
    let logger: Logger
    let clock: OutageClock
    let jitter: @Sendable () -> Double
    private let state: Mutex<OutageState>

    /// `activity` names what pauses, as in "housekeeping paused: Redis unreachable".
    public convenience init(_ activity: String, logger: Logger, policy: OutagePolicy = .standard) {
        self.init(activity, logger: logger, policy: policy, clock: .continuous, jitter: { Double.random(in: 0...1) })
    }

    init(_ activity: String, logger: Logger, policy: OutagePolicy, clock: OutageClock, jitter: @escaping @Sendable () -> Double) {
        self.activity = activity
        self.logger = logger
        self.clock = clock
        self.jitter = jitter
        self.state = Mutex(OutageState(policy: policy))
    }

    /// Consecutive failures since the last success.
    public var failures: Int { state.withLock { $0.failures } }

    /// Logs the failure if the policy says so, then waits out the backoff. Returns at once when
    /// the task is cancelled; callers that also stop on graceful shutdown wrap this call in
    /// `cancelWhenGracefulShutdown`.
    public func failed(_ error: any Error) async {
        let now = clock.now()
        let (report, failures, delay) = state.withLock { state in
            let report = state.failed(at: now)
            return (report, state.failures, state.policy.delay(afterFailures: state.failures, jitter: jitter()))
        }
        switch report {
        case .began:
            logger.warning("\(activity) paused: Redis unreachable", metadata: ["error": "\(error)"])
        case .continuing(let downFor):
            logger.warning(
                "\(activity) still paused: Redis unreachable for \(downFor.outageText)",
                metadata: ["error": "\(error)", "down_seconds": "\(downFor.components.seconds)", "attempts": "\(failures)"])
        case nil:
            break
        }
        await clock.sleep(delay)
    }

    /// Ends the outage, if there was one, with a notice saying how long it lasted. Cheap when
    /// there was none: loops call it after every round trip that worked.
    public func succeeded() {
        let now = clock.now()
        let (outage, failures) = state.withLock { state in
            let failures = state.failures
            return (state.succeeded(at: now), failures)
        }
        guard let outage else { return }
        logger.notice(
            "\(activity) resumed: Redis reachable again after \(outage.outageText)",
            metadata: ["down_seconds": "\(outage.components.seconds)", "attempts": "\(failures)"])
    }
}

/// The time an ``OutagePause`` reads and waits on: the continuous clock, or a simulated one in tests.
struct OutageClock: Sendable {
    var now: @Sendable () -> ContinuousClock.Instant
    /// Returns early on cancellation, never throws: a loop checks `Task.isCancelled` next.
    var sleep: @Sendable (Duration) async -> Void

    static let continuous = OutageClock(now: { .now }, sleep: { try? await Task.sleep(for: $0) })
}
