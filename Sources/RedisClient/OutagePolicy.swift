/// The one outage policy of every background loop, as values: how long to wait between attempts
/// while Redis is unreachable, and when to say so. ``OutagePause`` applies it; this part has no
/// clock and no logger, so it is tested without either.
public struct OutagePolicy: Sendable {
    /// The nominal wait after the first failure; it doubles per failure up to ``maximumDelay``.
    public var firstDelay: Duration
    /// Bounds the wait, so a loop notices Redis is back within seconds however long it was down.
    public var maximumDelay: Duration
    /// How often a continuing outage is logged again: often enough to show it is still going on,
    /// rare enough that a long outage is a handful of lines, not one per attempt.
    public var reportInterval: Duration

    public static let standard = OutagePolicy(firstDelay: .milliseconds(100), maximumDelay: .seconds(5), reportInterval: .seconds(60))

    public init(firstDelay: Duration, maximumDelay: Duration, reportInterval: Duration) {
        self.firstDelay = firstDelay
        self.maximumDelay = maximumDelay
        self.reportInterval = reportInterval
    }

    /// The wait after `failures` consecutive failures before jitter: 100 ms, 200 ms, … 5 s.
    public func nominalDelay(afterFailures failures: Int) -> Duration {
        let exponent = min(max(failures - 1, 0), 30)
        return min(firstDelay * (1 << exponent), maximumDelay)
    }

    /// The wait actually taken: between half and all of the nominal one (`jitter` in 0...1), so
    /// the replicas that lost Redis together do not all come back in the same millisecond.
    public func delay(afterFailures failures: Int, jitter: Double) -> Duration {
        let nominal = nominalDelay(afterFailures: failures)
        return nominal / 2 + nominal * (min(max(jitter, 0), 1) / 2)
    }
}

/// One loop's outage as a state machine: fed each failure and success with the time it happened,
/// it says which line to log. Times are `ContinuousClock` instants so tests can simulate minutes.
struct OutageState: Sendable {
    enum Report: Equatable {
        /// Redis just became unreachable.
        case began
        /// Still unreachable, this long after the first failure.
        case continuing(downFor: Duration)
    }

    let policy: OutagePolicy
    /// Consecutive failures since the last success; sets the backoff.
    private(set) var failures = 0
    private(set) var downSince: ContinuousClock.Instant?
    /// On a fixed grid from `downSince`, so an outage of N minutes is reported N times however the
    /// attempts fall.
    private var nextReport: ContinuousClock.Instant?

    init(policy: OutagePolicy) {
        self.policy = policy
    }

    mutating func failed(at now: ContinuousClock.Instant) -> Report? {
        failures += 1
        guard let downSince, let due = nextReport else {
            downSince = now
            nextReport = now + policy.reportInterval
            return .began
        }
        guard now >= due else { return nil }
        var next = due
        while next <= now { next += policy.reportInterval }
        nextReport = next
        return .continuing(downFor: now - downSince)
    }

    /// How long the outage that just ended lasted, or nil if there was none.
    mutating func succeeded(at now: ContinuousClock.Instant) -> Duration? {
        defer {
            failures = 0
            downSince = nil
            nextReport = nil
        }
        return downSince.map { now - $0 }
    }
}

extension Duration {
    /// "850 ms", "42 s", "3 min 5 s": for outage lines read by people.
    var outageText: String {
        let milliseconds = components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000
        if milliseconds < 1_000 { return "\(milliseconds) ms" }
        let seconds = milliseconds / 1_000
        if seconds < 60 { return "\(seconds) s" }
        return "\(seconds / 60) min \(seconds % 60) s"
    }
}
