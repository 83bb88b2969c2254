/// Which primary serves each of a Cluster's slots, as the client knows it: a map looked up from the
/// nodes (``ClusterTopology``), patched by `MOVED` redirections in between.
struct ClusterSlotMap {
    /// Per slot, an index into `primaries`, or -1 when no primary is known for it.
    private var slots = [Int16](repeating: -1, count: ClusterSlot.count)
    private(set) var primaries: [RedisConfiguration.Endpoint] = []
    private(set) var topology: ClusterTopology?
    /// Slots a `MOVED` moved while a lookup was under way: the map that lookup brings may be older
    /// than the redirection, which is applied again over it.
    private var movedDuringLookup: [Int: RedisConfiguration.Endpoint]?

    func primary(of slot: Int) -> RedisConfiguration.Endpoint? {
        let index = Int(slots[slot])
        return index >= 0 ? primaries[index] : nil
    }

    /// A lookup of the whole map starts: `MOVED`s from now on win over what it brings.
    mutating func lookupStarted() {
        movedDuringLookup = [:]
    }

    /// A lookup ended (applied, or failed with nothing to apply).
    mutating func lookupEnded() {
        movedDuringLookup = nil
    }

    /// A `MOVED`: the slot is there now.
    mutating func moved(_ slot: Int, to endpoint: RedisConfiguration.Endpoint) {
        assign(slot, to: endpoint)
        movedDuringLookup?[slot] = endpoint
    }

    /// An `ASK` to `endpoint`: a node importing a slot, maybe one that serves none yet. It joins
    /// `primaries` (no slot assigned), so key tracking follows it before the map names it.
    mutating func asked(_ endpoint: RedisConfiguration.Endpoint) {
        if !primaries.contains(endpoint) { primaries.append(endpoint) }
    }

    /// The map a lookup brought, with the `MOVED`s seen while it was under way.
    mutating func apply(_ topology: ClusterTopology) {
        self.topology = topology
        primaries = topology.primaries
        slots = [Int16](repeating: -1, count: ClusterSlot.count)
        for range in topology.ranges {
            guard let index = primaries.firstIndex(of: range.primary) else { continue }
            for slot in range.first...min(range.last, ClusterSlot.count - 1) { slots[slot] = Int16(index) }
        }
        for (slot, endpoint) in movedDuringLookup ?? [:] { assign(slot, to: endpoint) }
        movedDuringLookup = nil
    }

    private mutating func assign(_ slot: Int, to endpoint: RedisConfiguration.Endpoint) {
        if let index = primaries.firstIndex(of: endpoint) {
            slots[slot] = Int16(index)
        } else {
            primaries.append(endpoint)
            slots[slot] = Int16(primaries.count - 1)
        }
    }
}
