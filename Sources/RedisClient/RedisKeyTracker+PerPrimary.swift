import Synchronization

extension RedisKeyTracker {
    /// Key tracking on a Cluster whose tracked keys spread over every slot: one tracking
    /// connection per primary the client's map names, each reporting the changes to the keys its
    /// node holds. ``Event/started`` once every primary tracks; ``Event/stopped`` as soon as one
    /// stops. When the map's primaries change (a failover, a node added), every connection starts
    /// over on the new set, after a `stopped`. A node an `ASK` names joins the map's primaries at
    /// once (``ClusterSlotMap/asked(_:)``); the set is compared once a heartbeat, so an entry read
    /// from a node that just joined may be served up to a heartbeat after it changed
    /// (docs/redis.md, "Key tracking" under Redis Cluster).
    func runPerPrimary(_ cluster: RedisClient, _ onEvent: @escaping @Sendable (Event) -> Void) async {
        while !Task.isCancelled {
            let primaries = cluster.knownPrimaries()
            guard !primaries.isEmpty else {
                // No map yet: one lookup loads it.
                _ = try? await cluster.primaries()
                if cluster.knownPrimaries().isEmpty { try? await Task.sleep(for: heartbeat) }
                continue
            }
            let state = PerPrimaryState.Shared(PerPrimaryState(count: primaries.count))
            await withTaskGroup(of: Void.self) { group in
                for (index, primary) in primaries.enumerated() {
                    let tracker = RedisKeyTracker(
                        connector: cluster.connector(toPrimary: primary), prefixes: prefixes, heartbeat: heartbeat, logger: logger)
                    group.addTask {
                        await tracker.runOnOneServer { event in
                            for combined in state.withLock({ $0.handle(event, from: index) }) { onEvent(combined) }
                        }
                    }
                }
                // Ends the group when the map's primaries are no longer these.
                group.addTask {
                    while !Task.isCancelled, Set(cluster.knownPrimaries()) == Set(primaries) {
                        try? await Task.sleep(for: heartbeat)
                    }
                }
                await group.next()
                group.cancelAll()
            }
            if state.withLock({ $0.reportStopped() }) { onEvent(.stopped) }
        }
    }
}

/// Which primaries track, and whether the whole was reported as tracking.
struct PerPrimaryState: Sendable {
    /// The state the primaries' trackers share.
    final class Shared: Sendable {
        private let state: Mutex<PerPrimaryState>

        init(_ state: PerPrimaryState) {
            self.state = Mutex(state)
        }

        func withLock<T: Sendable>(_ body: (inout PerPrimaryState) -> T) -> T { state.withLock { body(&$0) } }
    }

    var tracking: [Bool]
    var reported = false

    init(count: Int) {
        tracking = Array(repeating: false, count: count)
    }

    /// The events to report for `event` from primary `index`.
    mutating func handle(_ event: RedisKeyTracker.Event, from index: Int) -> [RedisKeyTracker.Event] {
        switch event {
        case .started:
            tracking[index] = true
            guard !reported, tracking.allSatisfy({ $0 }) else { return [] }
            reported = true
            return [.started]
        case .stopped:
            tracking[index] = false
            return reportStopped() ? [.stopped] : []
        case .changed, .flushed:
            return [event]
        }
    }

    /// Whether a `stopped` is due (the whole was reported as tracking).
    mutating func reportStopped() -> Bool {
        defer { reported = false }
        return reported
    }
}
