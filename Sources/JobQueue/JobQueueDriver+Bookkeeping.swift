import RedisClient

/// What every driver does the same way, on top of its storage: a retry counts the attempt, a dead
/// letter records why, and a failed attempt goes to one or the other by the ``RetryPolicy``. The
/// worker calls these; a driver implements only the moves they end in.
extension JobQueueDriver {
    /// Schedules another attempt at `dueAt` (ms since 1970), counting this one, atomically with
    /// leaving the processing list.
    public func retry(_ job: FetchedJob, laneID: String, dueAt: Int64, error: String) async throws {
        try await moveToDelayed(job, envelope: job.retryEnvelope(error: error), dueAt: dueAt, laneID: laneID)
    }

    /// Moves a job to the dead letters with why it failed, atomically with leaving the processing list.
    public func deadLetter(_ job: FetchedJob, laneID: String, reason: String, lastError: String?) async throws {
        try await moveToDead(job, letter: job.deadLetter(reason: reason, lastError: lastError), laneID: laneID)
    }

    /// Dead-letters a job whose attempts were used up before this one ran (it kept killing
    /// workers, say); returns whether it did, so the caller does not run it.
    public func deadLetterIfOutOfAttempts(_ job: FetchedJob, laneID: String, policy: RetryPolicy) async throws -> Bool {
        guard job.isOutOfAttempts(policy) else { return false }
        try await deadLetter(job, laneID: laneID, reason: DeadLetter.gaveUpReason(after: job.attemptsBefore), lastError: nil)
        return true
    }

    /// After a failed attempt worth retrying: another one later by the policy (never sooner than
    /// `retryAfter`), or the dead letters once the attempts are used up. Returns whether it was retried.
    public func settleFailedAttempt(
        _ job: FetchedJob, laneID: String, error: String, retryAfter: Duration?, policy: RetryPolicy,
        now: Int64 = JobEnvelope.nowMilliseconds()
    ) async throws -> Bool {
        let attempt = job.attemptsBefore + 1
        guard let delay = policy.delay(afterAttempt: attempt, retryAfter: retryAfter) else {
            try await deadLetter(job, laneID: laneID, reason: DeadLetter.gaveUpReason(after: attempt), lastError: error)
            return false
        }
        try await retry(job, laneID: laneID, dueAt: now + delay.milliseconds, error: error)
        return true
    }
}
