/// Which primary serves which hash slots, as a Cluster node reports it: `CLUSTER SHARDS` (Redis 7),
/// or `CLUSTER SLOTS` from older servers. Equatable, so answers of several nodes can be compared
/// (``RedisCluster`` takes a map only when more than one node agrees, where more than one answers).
struct ClusterTopology: Sendable, Equatable, CustomStringConvertible {
    struct Range: Sendable, Equatable, Comparable {
        let first: Int
        let last: Int
        let primary: RedisConfiguration.Endpoint

        static func < (lhs: Range, rhs: Range) -> Bool { lhs.first < rhs.first }
    }

    /// Sorted by first slot.
    let ranges: [Range]

    init(ranges: [Range]) {
        self.ranges = ranges.sorted()
    }

    /// Every primary that serves at least one slot.
    var primaries: [RedisConfiguration.Endpoint] {
        var seen: [RedisConfiguration.Endpoint] = []
        for range in ranges where !seen.contains(range.primary) { seen.append(range.primary) }
        return seen
    }

    /// Slots no primary serves (a cluster still being set up, or a failed shard).
    var uncoveredSlots: Int {
        ClusterSlot.count - ranges.reduce(0) { $0 + $1.last - $1.first + 1 }
    }

    var description: String {
        ranges.map { "\($0.first)-\($0.last)@\($0.primary)" }.joined(separator: " ")
    }

    /// Parses `CLUSTER SHARDS`: per shard a flat map with `slots` (start, end pairs) and `nodes`
    /// (flat maps: `endpoint`/`ip`, `port`, `tls-port`, `role`, `health`). The primary is the node
    /// whose role is `master`; a shard with none online is left out (its slots uncovered).
    /// `queried` stands in for an endpoint the node reports as `?` or empty.
    static func fromShards(_ reply: RedisReply, queried: RedisConfiguration.Endpoint, tls: Bool) throws(RedisError) -> ClusterTopology {
        guard let shards = reply.array else { throw .protocolError("CLUSTER SHARDS did not answer an array") }
        var ranges: [Range] = []
        for shard in shards {
            let fields = pairs(shard)
            guard let slots = fields["slots"]?.array, let nodes = fields["nodes"]?.array else {
                throw .protocolError("CLUSTER SHARDS: a shard without slots or nodes")
            }
            let primary = nodes.lazy.map(pairs).first { node in
                node["role"]?.string == "master" && (node["health"]?.string ?? "online") == "online"
            }
            guard let primary, slots.count >= 2 else { continue }
            let port = (tls ? primary["tls-port"]?.int : nil) ?? primary["port"]?.int
            let host = primary["endpoint"]?.string ?? primary["ip"]?.string
            guard let endpoint = endpoint(host: host, port: port, queried: queried) else {
                throw .protocolError("CLUSTER SHARDS: a primary without a usable address")
            }
            var index = 0
            while index + 1 < slots.count {
                guard let first = slots[index].int, let last = slots[index + 1].int else {
                    throw .protocolError("CLUSTER SHARDS: slot bounds are not integers")
                }
                ranges.append(Range(first: first, last: last, primary: endpoint))
                index += 2
            }
        }
        return ClusterTopology(ranges: ranges)
    }

    /// Parses `CLUSTER SLOTS`: `[start, end, [host, port, id, …], replicas…]` per range.
    static func fromSlots(_ reply: RedisReply, queried: RedisConfiguration.Endpoint) throws(RedisError) -> ClusterTopology {
        guard let entries = reply.array else { throw .protocolError("CLUSTER SLOTS did not answer an array") }
        var ranges: [Range] = []
        for entry in entries {
            guard let items = entry.array, items.count >= 3, let first = items[0].int, let last = items[1].int,
                let node = items[2].array, node.count >= 2,
                let endpoint = endpoint(host: node[0].string, port: node[1].int, queried: queried)
            else { throw .protocolError("CLUSTER SLOTS: an entry without bounds or a primary") }
            ranges.append(Range(first: first, last: last, primary: endpoint))
        }
        return ClusterTopology(ranges: ranges)
    }

    /// A flat `[name, value, …]` array as a dictionary of replies.
    private static func pairs(_ reply: RedisReply) -> [String: RedisReply] {
        guard let flat = reply.array else { return [:] }
        var result: [String: RedisReply] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let name = flat[index].string { result[name] = flat[index + 1] }
            index += 2
        }
        return result
    }

    /// A node's address; an empty host or `?` means "the node you asked" (Cluster's convention).
    private static func endpoint(host: String?, port: Int?, queried: RedisConfiguration.Endpoint) -> RedisConfiguration.Endpoint? {
        guard let port, (1...65535).contains(port) else { return nil }
        guard let host, !host.isEmpty, host != "?" else {
            guard case .tcp(let queriedHost, _) = queried else { return nil }
            return .tcp(host: queriedHost, port: port)
        }
        return .tcp(host: host, port: port)
    }
}
