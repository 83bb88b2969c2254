import Foundation
import JobQueue
import RedisClient

/// The command jobs' side of Redis: enqueue with one command in flight per booking, status for
/// polling, and a reply list the API waits on with `BLPOP`.
public struct CommandStore: Sendable {
    let redis: RedisClient
    let queue: JobQueue
    /// A command's status and reply live in the shard its job id names (its booking's), which is
    /// where it was pushed: the worker, which knows the shard it took the job from, names it
    /// (`shard`), so a job pushed under another shard count (a rollout of `queue.shards`) still
    /// finds its status and its booking's lock.
    func keys(_ jobID: String, shard: Int? = nil) -> QueueKeys { shard.map { queue.shards[$0] } ?? queue.shards.ofJob(jobID) }
    /// How long a status stays readable, and the longest a booking stays locked by a lost job.
    public let statusTTLSeconds: Int
    /// With `ingress.replicaAcks` > 0: the replicas an enqueued command waits for.
    let replicaWait: ReplicaWait?
    /// Where a command, its Booxi calls and its result are noted, in the round trips they take anyway.
    let timeline: BookingTimeline?

    public init(
        redis: RedisClient, shards: QueueShards, statusTTLSeconds: Int = 3600, replicaWait: ReplicaWait? = nil, timeline: BookingTimeline? = nil
    ) {
        self.redis = redis
        self.timeline = timeline
        self.queue = JobQueue(redis: redis, shards: shards)
        self.statusTTLSeconds = statusTTLSeconds
        self.replicaWait = replicaWait
    }

    public enum EnqueueResult: Sendable, Equatable {
        case queued(jobID: String)
        /// Another command for this booking is in flight.
        case busy(jobID: String)
        /// Queued on the primary, but fewer replicas than asked confirmed it in time: it may run,
        /// or be lost with the primary.
        case notReplicated(jobID: String, acknowledged: Int)
    }

    public func enqueue(_ command: CommandJob) async throws -> EnqueueResult {
        let envelope = JobEnvelope(
            id: queue.shards.newJobID(forBooking: command.bookingID), kind: command.action.jobKind,
            payload: String(decoding: try JSONEncoder().encode(command), as: UTF8.self))
        let status = try JSONEncoder().encode(CommandStatus(state: .queued, owner: Self.owner(of: command), cancelReason: command.cancelReason))
        var pipeline = RedisPipeline()
        queue.appendPush(envelope, holdingCommandLockOf: command.bookingID, status: Array(status), ttlSeconds: statusTTLSeconds, to: &pipeline)
        let waitReply = pipeline.count
        if let replicaWait { queue.appendReplicaWait(replicaWait, to: &pipeline) }
        let replies = try await redis.execute(pipeline)
        switch try PushOutcome(reply: replies[0]) {
        case .busy(let holder):
            // A queued command goes to the timeline with its outcome (``timelineNotes(of:jobID:requestedAt:calls:result:)``),
            // in the worker's write; one refused here, now: the console shows the refused attempt too.
            if let timeline {
                var note = RedisPipeline()
                timeline.append(bookingID: command.bookingID, [Self.commandEntry(command, jobID: envelope.id, at: envelope.receivedAt)], to: &note)
                _ = try? await redis.execute(note)
            }
            return .busy(jobID: holder)
        case .queued, .duplicate:
            if let replicaWait {
                let (acknowledged, enough) = try replicaWait.replicated(replies[waitReply])
                if !enough { return .notReplicated(jobID: envelope.id, acknowledged: acknowledged) }
            }
            return .queued(jobID: envelope.id)
        }
    }

    public func status(jobID: String) async throws -> CommandStatus? {
        guard let bytes = try await redis.get(keys(jobID).job(jobID)) else { return nil }
        return try? JSONDecoder().decode(CommandStatus.self, from: Data(bytes))
    }

    static func owner(of command: CommandJob) -> String? {
        TrackingCode(command.code)?.logID
    }

    /// `shard`: the queue shard the job was taken from.
    public func markRunning(jobID: String, shard: Int, command: CommandJob) async throws {
        let status = try JSONEncoder().encode(CommandStatus(state: .running, owner: Self.owner(of: command), cancelReason: command.cancelReason))
        try await redis.send("SET", keys(jobID, shard: shard).job(jobID), Array(status), "EX", statusTTLSeconds)
    }

    /// A Booxi call a command made, for its booking's timeline.
    public struct BooxiCall: Sendable, Equatable {
        public var call: String
        /// The HTTP status, or the error's kind when there was none.
        public var status: String
        public var milliseconds: Int
        /// When the call started (ms since 1970): the timeline places it there, not at the note.
        public var startedAt: Int64

        public init(call: String, status: String, milliseconds: Int, startedAt: Int64 = JobEnvelope.nowMilliseconds()) {
            self.call = call
            self.status = status
            self.milliseconds = milliseconds
            self.startedAt = startedAt
        }
    }

    /// Records the final status, wakes a waiting API request and frees the booking; the command's
    /// Booxi calls and its result go to the timeline in the same round trip.
    /// `requestedAt`: when the API queued it (the envelope's receive time). `noted`: the command, its
    /// calls and the result are on the timeline already (``timelineNotes(of:jobID:requestedAt:calls:result:)``
    /// went with the booking's copy).
    public func finish(
        jobID: String, shard: Int, command: CommandJob, requestedAt: Int64, status: CommandStatus, calls: [BooxiCall] = [], noted: Bool = false
    ) async throws {
        var status = status
        status.owner = Self.owner(of: command)
        status.cancelReason = command.cancelReason
        let bookingID = command.bookingID
        let keys = keys(jobID, shard: shard)
        let encoded = Array(try JSONEncoder().encode(status))
        var pipeline = RedisPipeline()
        pipeline.append(
            Self.finishScript,
            keys: [keys.job(jobID), keys.jobReplies(jobID), keys.bookingCommandLock(bookingID)],
            arguments: [encoded, statusTTLSeconds, jobID])
        if !noted, let timeline {
            timeline.append(
                bookingID: command.bookingID, timelineNotes(of: command, jobID: jobID, requestedAt: requestedAt, calls: calls, result: status),
                to: &pipeline)
        }
        let replies = try await redis.execute(pipeline)
        if let message = replies[0].errorMessage { throw RedisError.server(message) }
    }

    /// Notes Booxi calls of an attempt that will be retried (the final attempt's go with `finish`).
    public func note(jobID: String, command: CommandJob, calls: [BooxiCall]) async throws {
        guard timeline != nil, !calls.isEmpty else { return }
        var pipeline = RedisPipeline()
        timeline?.append(
            bookingID: command.bookingID, timelineNotes(of: command, jobID: jobID, requestedAt: nil, calls: calls, result: nil), to: &pipeline)
        _ = try await redis.execute(pipeline)
    }

    /// The timeline entries of a command (when `requestedAt` is given: with its final result, so it
    /// is noted once, in a write the worker makes anyway), its Booxi calls and, when known, its
    /// result. The console orders entries by time, so the command shows when it was asked for.
    public func timelineNotes(of command: CommandJob, jobID: String, requestedAt: Int64?, calls: [BooxiCall], result: CommandStatus?) -> [String] {
        guard timeline != nil else { return [] }
        var entries = requestedAt.map { [Self.commandEntry(command, jobID: jobID, at: $0)] } ?? []
        entries += calls.map { call in
            BookingTimeline.encode(.booxi, at: call.startedAt, [call.call, call.status, String(call.milliseconds), jobID])
        }
        if let result {
            entries.append(
                BookingTimeline.encode(
                    .result, at: JobEnvelope.nowMilliseconds(),
                    [
                        command.action.rawValue, result.state.rawValue, result.refusal?.code ?? "",
                        result.trackingCode.map(BookingTimeline.mask) ?? "", jobID,
                    ]))
        }
        return entries
    }

    /// The `command` entry: action, who asked, the cancel reason's code, the job.
    static func commandEntry(_ command: CommandJob, jobID: String, at: Int64) -> String {
        BookingTimeline.encode(
            .command, at: at, [command.action.rawValue, command.requestedBy ?? "page", command.cancelReason?.code?.rawValue ?? "", jobID])
    }

    /// Waits up to `timeout` for the job's final status; nil if it is not done by then.
    public func waitForResult(jobID: String, timeout: Duration) async throws -> CommandStatus? {
        guard timeout > .zero, let bytes = try await redis.blpop(keys(jobID).jobReplies(jobID), timeout: timeout) else { return nil }
        return try? JSONDecoder().decode(CommandStatus.self, from: Data(bytes))
    }

    /// KEYS: job status, reply list, booking lock. ARGV: status JSON, ttl, jobId.
    /// A redelivered job that finishes twice pushes a second reply: nobody waits for it, and it
    /// goes with the list a minute later.
    static let finishScript = RedisScript(
        """
        redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
        redis.call('LPUSH', KEYS[2], ARGV[1])
        redis.call('EXPIRE', KEYS[2], 60)
        if redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('DEL', KEYS[3]) end
        return 1
        """)
}
