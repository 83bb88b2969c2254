/// The queue's Redis keys (docs/architecture.md §3). All of them share the `{q}` hash tag, so every script and
/// pipeline over them stays in one Redis Cluster slot.
public struct QueueKeys: Sendable {
    public let prefix: String

    public init(prefix: String = "bxt:") {
        self.prefix = prefix
    }

    private var base: String { prefix + "{q}:" }

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
