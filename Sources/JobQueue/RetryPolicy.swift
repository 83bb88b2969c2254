import RedisClient

/// When to try a failed job again: exponential backoff with full jitter (a uniformly random delay
/// between zero and `min(cap, base · 2^attempt)`), never sooner than a `Retry-After` the remote
/// side asked for, and at most `maxAttempts` attempts in all.
public struct RetryPolicy: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration
    public var maxAttempts: Int

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(600), maxAttempts: Int = 12) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
    }

    /// The ceiling of the jittered delay after `attempt` failed attempts (1 = the first failure).
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 40)
        let scaled = base.seconds * Double(UInt64(1) << UInt64(exponent))
        return scaled >= cap.seconds ? cap : .milliseconds(Int64(scaled * 1000))
    }

    /// The delay before the next attempt, or nil when `attempt` attempts are all the policy allows.
    public func delay(
        afterAttempt attempt: Int, retryAfter: Duration? = nil, random: (Double) -> Double = { Double.random(in: 0...$0) }
    ) -> Duration? {
        guard attempt < maxAttempts else { return nil }
        let jittered = Duration.milliseconds(Int64(random(ceiling(afterAttempt: attempt).seconds) * 1000))
        guard let retryAfter else { return jittered }
        return max(jittered, retryAfter)
    }
}

/// How a job attempt ended, decided in one place per job kind: the processor classifies errors,
/// the queue acts on the outcome.
public enum JobOutcome: Sendable, Equatable {
    case succeeded
    /// Worth another attempt (network, timeout, 5xx, 429); `retryAfter` is the remote side's wish.
    case retry(error: String, retryAfter: Duration?)
    /// Will never succeed as it is (validation error, unknown event): straight to the dead letters.
    case failed(reason: String)
}
