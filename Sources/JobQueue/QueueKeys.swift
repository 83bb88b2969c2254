import RedisClient

/// One queue shard's Redis keys (docs/architecture.md §3). All of them share the shard's hash tag,
/// so every script and pipeline over them stays in one Redis Cluster slot. With one shard (the
/// default) the tag is `{q}`; ``QueueShards`` says which tag each further shard has.
public struct QueueKeys: Sendable {
    public let prefix: String
    /// Which shard of ``QueueShards`` these keys are (0 for the only one).
    public let shard: Int
    /// The hash tag, without its braces: `q` for shard 0.
    public let tag: String

    public init(prefix: String = "bxt:", shard: Int = 0, tag: String = "q") {
        self.prefix = prefix
        self.shard = shard
        self.tag = tag
        base = prefix + "{" + tag + "}:"
    }

    private let base: String

    /// Webhook envelopes waiting (LPUSH by the ingress, BLMOVE RIGHT by workers: FIFO).
    public var webhooks: String { base + "webhooks" }
    /// Command jobs waiting; served before webhooks.
    public var commands: String { base + "commands" }
    public var delayed: String { base + "delayed" }
    public var dead: String { base + "dead" }
    /// Zset of worker ids scored by their last heartbeat time (ms).
    public var workers: String { base + "workers" }
    public var reaperLock: String { base + "reaper-lock" }

    public func processing(_ laneID: String) -> String { base + "processing:" + laneID }
    public func heartbeat(_ laneID: String) -> String { base + "heartbeat:" + laneID }
    /// Marks a webhook event id as seen, for duplicate deliveries.
    public func seen(_ eventID: String) -> String { base + "seen:" + eventID }
    public func job(_ jobID: String) -> String { base + "job:" + jobID }
    public func jobReplies(_ jobID: String) -> String { base + "job-reply:" + jobID }
    /// The one command in flight for a booking.
    public func bookingCommandLock(_ bookingID: String) -> String { base + "booking-command:" + bookingID }

    public func waitingList(_ queue: QueueName) -> String {
        switch queue {
        case .webhooks: webhooks
        case .commands: commands
        }
    }

    /// The waiting list a job kind goes to.
    public func waitingList(for kind: JobKind) -> String { waitingList(kind.queue) }
}
