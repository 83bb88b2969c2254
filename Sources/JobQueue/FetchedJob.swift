/// A job taken from a waiting list, as its raw bytes (needed to remove exactly it from the
/// processing list) and decoded, with the bookkeeping every driver shares: which attempt this is,
/// the envelope a retry schedules and the dead letter a failure leaves. A driver only stores what
/// these give it, so the Redis scripts and the in-memory lists cannot count differently.
public struct FetchedJob: Sendable {
    public let raw: [UInt8]
    /// Nil when the bytes are not an envelope: the worker dead-letters it rather than losing it.
    public let envelope: JobEnvelope?
    /// The queue shard it was taken from: it is acknowledged, retried or dead-lettered there.
    public let shard: Int

    public init(raw: [UInt8], shard: Int = 0) {
        self.raw = raw
        self.envelope = try? JobEnvelope.decode(raw)
        self.shard = shard
    }

    /// Attempts made before this one (failed, or interrupted by a crash); 0 for unreadable bytes.
    public var attemptsBefore: Int { envelope?.attempt ?? 0 }

    /// Whether the policy's attempts were used up before this one started (the job kept killing
    /// workers, say): it goes to the dead letters without running. Unreadable bytes never are: the
    /// handler dead-letters them with the reason they could not be read.
    public func isOutOfAttempts(_ policy: RetryPolicy) -> Bool {
        envelope != nil && attemptsBefore >= policy.maxAttempts
    }

    /// The envelope to keep when this job is retried or dead-lettered: unreadable bytes are kept
    /// as the payload of an `unreadable` job.
    var keptEnvelope: JobEnvelope {
        envelope ?? JobEnvelope(kind: .unreadable, payload: String(decoding: raw, as: UTF8.self))
    }

    /// What a retry schedules: the kept envelope with this attempt counted and its error.
    public func retryEnvelope(error: String) -> JobEnvelope {
        keptEnvelope.countingAttempt(lastError: error)
    }

    /// The dead letter for this job: the kept envelope as it was, this attempt counted, and the
    /// last error, or the one an earlier attempt left when this attempt gave none.
    public func deadLetter(reason: String, lastError: String?, failedAt: Int64 = JobEnvelope.nowMilliseconds()) -> DeadLetter {
        let envelope = keptEnvelope
        return DeadLetter(
            job: envelope, reason: reason, attempts: envelope.nextAttempt, lastError: lastError ?? envelope.lastError, failedAt: failedAt)
    }
}

extension JobEnvelope {
    /// This envelope with one more attempt counted and why it ended. The recover script does the
    /// same in Lua for a crashed worker's jobs (``QueueScripts/recover``).
    public func countingAttempt(lastError: String) -> JobEnvelope {
        var counted = self
        counted.attempt = nextAttempt
        counted.lastError = lastError
        return counted
    }

    /// The envelope a replayed dead letter goes back as: attempts reset, nothing else changed
    /// (``QueueScripts/replaySelected`` does the same in Lua).
    var replayed: JobEnvelope {
        var fresh = self
        fresh.attempt = 0
        fresh.lastError = nil
        return fresh
    }

    /// The last error of a reaped job: its worker's heartbeat expired mid-attempt.
    static func crashNote(laneID: String) -> String { "worker \(laneID) stopped without finishing (crash)" }
}

extension DeadLetter {
    /// The reason of a job whose attempts ran out; operators group dead letters by it.
    public static func gaveUpReason(after attempts: Int) -> String { "gave up after \(attempts) attempts" }
}

extension JobEnvelope {
    /// The attempt after this one. `attempt` comes from queued bytes an operator or a bug may have
    /// written: at `Int.max` it stays there instead of trapping.
    public var nextAttempt: Int { attempt == .max ? .max : attempt + 1 }
}
