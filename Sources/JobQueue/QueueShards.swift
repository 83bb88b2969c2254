import RedisClient

/// The queue's shards (`queue.shards`, docs/scaling.md "Queue shards"): N full sets of queue keys,
/// each under its own hash tag, so on a Redis Cluster the queues spread over the primaries. The
/// one place that says which shard a booking's jobs and a command's status live in.
///
/// - A booking's jobs all go to one shard (CRC16 of its id, modulo N), so its events keep their
///   order; its command lock and a command's status sit beside them.
/// - A command's job id is drawn so that it names the same shard (``newJobID(forBooking:)``): a
///   status poll finds it by the id alone.
/// - Shard 0's tag is `{q}` whatever N is: one shard is today's layout, and going from one shard
///   to several keeps the lists that hold jobs. Shard i > 0 of N gets the first tag `q<i>-<j>` whose
///   slot lies just after `slot(q) + i·16384/N`: on a cluster whose primaries own equal ranges of
///   slots (what `redis-cli --cluster create` makes) N shards land on N different primaries when N
///   divides the primaries' count or equals it. Changing N renames shards 1…N-1: see the docs.
public struct QueueShards: Sendable {
    public let all: [QueueKeys]

    public init(prefix: String = "bxt:", count: Int = 1) {
        precondition(count >= 1 && count <= Self.maxCount, "queue shards must be 1…\(Self.maxCount)")
        all = (0..<count).map { QueueKeys(prefix: prefix, shard: $0, tag: Self.tag(shard: $0, of: count)) }
    }

    /// The most shards a deployment may have (`queue.shards`).
    public static let maxCount = 64

    public var count: Int { all.count }
    public subscript(shard: Int) -> QueueKeys { all[shard] }

    /// The shard of a booking's jobs; shard 0 for a webhook that names no booking.
    public func forBooking(_ bookingID: String?) -> QueueKeys {
        guard count > 1, let bookingID else { return all[0] }
        return all[Self.hash(bookingID) % count]
    }

    /// The shard a job id names (``newJobID(forBooking:)``): where a command's status and reply are.
    public func ofJob(_ jobID: String) -> QueueKeys {
        count > 1 ? all[Self.hash(jobID) % count] : all[0]
    }

    /// A new job id that names the booking's shard: ids are drawn until one does (N draws on
    /// average, each a counter step: no system call).
    public func newJobID(forBooking bookingID: String) -> String {
        let wanted = forBooking(bookingID).shard
        while true {
            let id = JobEnvelope.newID()
            if ofJob(id).shard == wanted { return id }
        }
    }

    static func hash(_ text: String) -> Int { Int(ClusterSlot.crc16(text.utf8)) }

    /// The hash tag of shard `shard` of `count` (without braces).
    public static func tag(shard: Int, of count: Int) -> String {
        guard shard > 0 else { return "q" }
        let span = ClusterSlot.count / count
        let target = (ClusterSlot.of("{q}") + shard * span) % ClusterSlot.count
        let window = max(1, span / 8)
        var candidate = 0
        while true {
            let tag = "q\(shard)-\(candidate)"
            let distance = (ClusterSlot.of(tag) - target + ClusterSlot.count) % ClusterSlot.count
            if distance < window { return tag }
            candidate += 1
        }
    }
}
