/// Spaces out reconnect attempts after the server went away: the first retry after 50 ms,
/// doubling up to 1 s. Between attempts callers fail fast with the last error instead of each
/// waiting out a connect timeout.
struct ReconnectBackoff: Sendable {
    static let initial: Duration = .milliseconds(50)
    static let maximum: Duration = .seconds(1)

    private(set) var failures = 0
    private(set) var lastError: String?
    private var nextAttempt: ContinuousClock.Instant?

    /// How long until the next attempt is allowed, or nil if one may be made now.
    func remainingWait(now: ContinuousClock.Instant) -> Duration? {
        guard let nextAttempt, nextAttempt > now else { return nil }
        return nextAttempt - now
    }

    mutating func failed(error: String, now: ContinuousClock.Instant) {
        failures += 1
        lastError = error
        nextAttempt = now + delay(afterFailures: failures)
    }

    mutating func succeeded() {
        failures = 0
        lastError = nil
        nextAttempt = nil
    }

    func delay(afterFailures count: Int) -> Duration {
        let exponent = min(max(count - 1, 0), 10)
        return min(Self.initial * (1 << exponent), Self.maximum)
    }
}
