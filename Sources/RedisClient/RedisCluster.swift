import Logging
import Metrics
import Synchronization

/// The client's side of a Redis Cluster: the slot map, a ``RedisNode`` (its pools) per primary, and
/// the redirections. Each command goes to the primary that serves its key's slot; a keyless command
/// of a pipeline goes with the keyed command it finishes (`WAIT` after a push) or prepares
/// (`SCRIPT LOAD` before its `EVALSHA`), so it runs on the same connection. A pipeline is
/// split per node, sent to the nodes at once, and its replies put back in order.
///
/// - `MOVED`: the slot is patched in the map, the command resent there, and the whole map is
///   looked up again in the background (a slot rarely moves alone).
/// - `ASK`: the command alone is resent there after `ASKING`; the map stays.
/// - `TRYAGAIN`, `CLUSTERDOWN`, `MASTERDOWN`, `LOADING`: resent after a pause that doubles.
/// At most ``maxRedirections`` rounds; then the caller gets the node's last error reply.
///
/// The map comes from `CLUSTER SHARDS` (`CLUSTER SLOTS` on servers without it), asked of up to
/// three nodes (the known primaries first, then the seeds) and taken when more than one agrees.
/// It is looked up at the first command, every ``refreshInterval``, after a lost connection and
/// after a `MOVED`, so a failover is followed without a restart.
final class RedisCluster: Sendable {
    static let maxRedirections = 5
    static let refreshInterval: Duration = .seconds(10)

    /// TLS, credentials, timeouts and pool sizes for every node's connections.
    let configuration: RedisConfiguration
    let seeds: [RedisConfiguration.Endpoint]
    private let logger: Logger
    private let state = Mutex(State())
    private let periodic = Mutex<Task<Void, Never>?>(nil)
    /// `booxi_tracking_redis_cluster_redirections_total{kind}`: `moved`, `ask`, `retry`
    /// (`TRYAGAIN`, `CLUSTERDOWN`, `MASTERDOWN`, `LOADING`). A resharding shows as `ask` while
    /// slots migrate and `moved` after; a failover as `retry` and `moved`.
    private let redirections = [
        "moved": Counter(label: "booxi_tracking_redis_cluster_redirections_total", dimensions: [("kind", "moved")]),
        "ask": Counter(label: "booxi_tracking_redis_cluster_redirections_total", dimensions: [("kind", "ask")]),
        "retry": Counter(label: "booxi_tracking_redis_cluster_redirections_total", dimensions: [("kind", "retry")]),
    ]

    private struct State {
        var map = ClusterSlotMap()
        var nodes: [RedisConfiguration.Endpoint: RedisNode] = [:]
        var refreshing: Task<Void, any Error>?
        var isClosed = false
    }

    init(configuration: RedisConfiguration, seeds: [RedisConfiguration.Endpoint], logger: Logger) {
        self.configuration = configuration
        self.seeds = seeds
        self.logger = logger
        let interval = Self.refreshInterval
        periodic.withLock {
            $0 = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    guard let self, !Task.isCancelled else { return }
                    try? await self.refresh()
                }
            }
        }
    }

    func close() async {
        periodic.withLock { $0?.cancel() }
        let nodes = state.withLock { state in
            state.isClosed = true
            return Array(state.nodes.values)
        }
        for node in nodes { await node.close() }
    }

    /// The primaries of the current map (for tools and tests: `SCAN` runs on each).
    func primaries() async throws -> [RedisConfiguration.Endpoint] {
        try await loadMapIfNeeded()
        return state.withLock { $0.map.topology?.primaries ?? [] }
    }

    // MARK: Sending

    /// Commands for one node, not routed (`SCAN` of each primary in turn).
    func submit(_ commands: [RedisCommand], on endpoint: RedisConfiguration.Endpoint) async throws -> [RedisReply] {
        try await node(endpoint).submit(commands)
    }

    /// One reply per command, in order; error replies in place, redirections followed.
    func submit(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        try await loadMapIfNeeded()
        let slots = commands.map { $0.routingKey.map(ClusterSlot.of) }
        let anchor = RedisCommand.anchors(of: commands, keyed: slots.map { $0 != nil })

        var replies = [RedisReply?](repeating: nil, count: commands.count)
        var pending = Array(commands.indices)
        var asking: [Int: RedisConfiguration.Endpoint] = [:]
        var round = 0
        var pause: Duration = .milliseconds(10)
        while !pending.isEmpty {
            let routes = try await route(pending, anchor: anchor, slots: slots, asking: asking)
            let answers = try await send(commands, routes: routes, asking: asking)
            round += 1
            var retry: Set<Int> = []
            var mustPause = false
            var mapIsStale = false
            for (endpoint, indices, nodeReplies) in answers {
                for (index, reply) in zip(indices, nodeReplies) {
                    replies[index] = reply
                    guard round <= Self.maxRedirections, let redirect = ClusterRedirect(reply, queried: endpoint) else { continue }
                    switch redirect {
                    case .moved(let slot, let to):
                        redirections["moved"]?.increment()
                        state.withLock { $0.map.moved(slot, to: to) }
                        asking[anchor[index]] = nil
                        mapIsStale = true
                    case .ask(_, let to):
                        redirections["ask"]?.increment()
                        state.withLock { $0.map.asked(to) }
                        asking[anchor[index]] = to
                    case .tryAgain:
                        redirections["retry"]?.increment()
                        mustPause = true
                    }
                    retry.insert(anchor[index])
                }
            }
            if mapIsStale { refreshInBackground() }
            // What follows a resent command (its `WAIT`) is resent with it.
            pending = pending.filter { retry.contains(anchor[$0]) }
            if mustPause, !pending.isEmpty {
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(500))
            }
        }
        return replies.map { $0 ?? .null }
    }

    /// A waiting command (`BLMOVE`, `BLPOP`) and what follows it, on the blocking pool of the node
    /// that serves its key; redirections are followed as for ``submit(_:)``.
    func sendBlocking(pipeline commands: [RedisCommand], serverTimeout: Duration) async throws -> [RedisReply] {
        try await loadMapIfNeeded()
        guard let slot = commands.lazy.compactMap(\.routingKey).first.map(ClusterSlot.of) else {
            throw RedisError.protocolError("a blocking command on a Cluster needs a key")
        }
        var asking: RedisConfiguration.Endpoint?
        var pause: Duration = .milliseconds(10)
        var round = 0
        while true {
            round += 1
            let endpoint = try await primary(of: slot, asking: asking)
            let node = try self.node(endpoint)
            var replies: [RedisReply]
            do {
                // `ASKING` holds for one command: each of the pipeline's gets its own.
                replies = try await node.sendBlocking(
                    pipeline: asking == nil ? commands : commands.flatMap { [RedisCommand("ASKING"), $0] }, serverTimeout: serverTimeout)
            } catch {
                refreshAfterFailure(error)
                throw error
            }
            if asking != nil { replies = replies.indices.filter { $0 % 2 == 1 }.map { replies[$0] } }
            guard round <= Self.maxRedirections, let first = replies.first, let redirect = ClusterRedirect(first, queried: endpoint) else {
                return replies
            }
            switch redirect {
            case .moved(let slot, let to):
                redirections["moved"]?.increment()
                state.withLock { $0.map.moved(slot, to: to) }
                asking = nil
                refreshInBackground()
            case .ask(_, let to):
                redirections["ask"]?.increment()
                state.withLock { $0.map.asked(to) }
                asking = to
            case .tryAgain:
                redirections["retry"]?.increment()
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(500))
            }
        }
    }

    /// The commands by node, in their order within each node.
    private func route(
        _ pending: [Int], anchor: [Int], slots: [Int?], asking: [Int: RedisConfiguration.Endpoint]
    ) async throws -> [(RedisConfiguration.Endpoint, [Int])] {
        let routes = try await whenMapped { map -> [(RedisConfiguration.Endpoint, [Int])]? in
            var order: [RedisConfiguration.Endpoint] = []
            var groups: [RedisConfiguration.Endpoint: [Int]] = [:]
            for index in pending {
                let keyed = anchor[index]
                let endpoint: RedisConfiguration.Endpoint?
                if let target = asking[keyed] {
                    endpoint = target
                } else if let slot = slots[keyed] {
                    endpoint = map.primary(of: slot)
                } else {
                    endpoint = map.primaries.first
                }
                guard let endpoint else { return nil }
                if groups[endpoint] == nil { order.append(endpoint) }
                groups[endpoint, default: []].append(index)
            }
            return order.map { ($0, groups[$0]!) }
        }
        if let routes { return routes }
        let unserved = pending.compactMap { slots[anchor[$0]] }.first { slot in state.withLock { $0.map.primary(of: slot) == nil } }
        throw RedisError.connection("no Redis Cluster primary serves slot \(unserved.map(String.init) ?? "?") (seeds \(seedList))")
    }

    private func primary(of slot: Int, asking: RedisConfiguration.Endpoint?) async throws -> RedisConfiguration.Endpoint {
        if let asking { return asking }
        if let known = try await whenMapped({ $0.primary(of: slot) }) { return known }
        throw RedisError.connection("no Redis Cluster primary serves slot \(slot) (seeds \(seedList))")
    }

    /// What `lookup` finds in the map, waiting for it while the map has a gap: a failover leaves
    /// the failed primary's slots without one until its replica is promoted. The map is looked up
    /// again with a pause that doubles, for up to the command timeout (what a command to a dead
    /// node would have waited); nil if the gap is still there then.
    private func whenMapped<T>(_ lookup: (ClusterSlotMap) -> T?) async throws -> T? {
        if let found = state.withLock({ lookup($0.map) }) { return found }
        let deadline = ContinuousClock.now + configuration.commandTimeout
        var pause: Duration = .milliseconds(50)
        while true {
            do {
                try await refresh()
            } catch {
                // No node answered: the last attempt's error names the cause.
                if ContinuousClock.now >= deadline { throw error }
            }
            if let found = state.withLock({ lookup($0.map) }) { return found }
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: min(pause, deadline - ContinuousClock.now))
            pause = min(pause * 2, .milliseconds(400))
        }
    }

    /// Sends each node its share at once; `ASKING` goes before a command being asked elsewhere.
    private func send(
        _ commands: [RedisCommand], routes: [(RedisConfiguration.Endpoint, [Int])], asking: [Int: RedisConfiguration.Endpoint]
    ) async throws -> [(RedisConfiguration.Endpoint, [Int], [RedisReply])] {
        // The common case, every command on one node: no task of its own.
        if routes.count == 1 { return [try await send(commands, to: routes[0].0, indices: routes[0].1, asking: asking)] }
        return try await withThrowingTaskGroup(of: (RedisConfiguration.Endpoint, [Int], [RedisReply]).self) { group in
            for (endpoint, indices) in routes {
                group.addTask { try await self.send(commands, to: endpoint, indices: indices, asking: asking) }
            }
            var answers: [(RedisConfiguration.Endpoint, [Int], [RedisReply])] = []
            for try await answer in group { answers.append(answer) }
            return answers
        }
    }

    private func send(
        _ commands: [RedisCommand], to endpoint: RedisConfiguration.Endpoint, indices: [Int], asking: [Int: RedisConfiguration.Endpoint]
    ) async throws -> (RedisConfiguration.Endpoint, [Int], [RedisReply]) {
        let node = try self.node(endpoint)
        // `ASKING` before each command being asked here; its `OK` is not the caller's reply.
        var batch: [RedisCommand] = []
        var askings: Set<Int> = []
        if indices.count == commands.count, asking.isEmpty {
            batch = commands
        } else {
            for index in indices {
                if asking[index] != nil {
                    askings.insert(batch.count)
                    batch.append(RedisCommand("ASKING"))
                }
                batch.append(commands[index])
            }
        }
        do {
            let replies = try await node.submit(batch)
            return (endpoint, indices, askings.isEmpty ? replies : replies.indices.filter { !askings.contains($0) }.map { replies[$0] })
        } catch {
            refreshAfterFailure(error)
            throw error
        }
    }

    private func node(_ endpoint: RedisConfiguration.Endpoint) throws(RedisError) -> RedisNode {
        try state.withLock { (state: inout State) throws(RedisError) -> RedisNode in
            if state.isClosed { throw RedisError.closed }
            if let node = state.nodes[endpoint] { return node }
            var own = configuration
            own.endpoint = endpoint
            own.cluster = nil
            own.sentinel = nil
            let node = RedisNode(configuration: own, connector: RedisConnector(configuration: own), logger: logger)
            state.nodes[endpoint] = node
            return node
        }
    }

    // MARK: The slot map

    /// The primaries the map names now, those `MOVED` taught it included, without waiting (key
    /// tracking keeps a connection to each).
    func knownPrimaries() -> [RedisConfiguration.Endpoint] {
        state.withLock { $0.map.primaries }
    }

    /// The primary that serves `slot` by the current map, without waiting (for connections opened
    /// on a thread of their own: key tracking). Unknown, it throws and the map is looked up again.
    func primary(serving slot: Int) throws(RedisError) -> RedisConfiguration.Endpoint {
        if let known = state.withLock({ $0.map.primary(of: slot) }) { return known }
        refreshInBackground()
        throw RedisError.connection("no Redis Cluster primary is known for slot \(slot) yet (seeds \(seedList))")
    }

    private func loadMapIfNeeded() async throws {
        if state.withLock({ $0.map.topology == nil }) { try await refresh() }
    }

    /// Looks the map up now (one lookup at a time; callers meanwhile wait for it).
    func refresh() async throws {
        let task = state.withLock { state in
            if let running = state.refreshing { return running }
            let task = Task { try await self.discover() }
            state.refreshing = task
            state.map.lookupStarted()
            return task
        }
        try await task.value
    }

    private func refreshInBackground() {
        Task { try? await self.refresh() }
    }

    private func refreshAfterFailure(_ error: any Error) {
        guard let error = error as? RedisError, case .connection = error else {
            if let error = error as? RedisError, case .timeout = error { refreshInBackground() }
            return
        }
        refreshInBackground()
    }

    private var seedList: String { seeds.map(\.description).joined(separator: ",") }

    private func discover() async throws {
        defer {
            state.withLock { state in
                state.refreshing = nil
                state.map.lookupEnded()
            }
        }
        let known = state.withLock { $0.map.topology?.primaries ?? [] }
        var candidates: [RedisConfiguration.Endpoint] = []
        for endpoint in known + seeds where !candidates.contains(endpoint) { candidates.append(endpoint) }
        var answers: [ClusterTopology] = []
        var problems: [String] = []
        for endpoint in candidates where answers.count < 3 {
            do {
                answers.append(try await topology(from: endpoint))
            } catch {
                problems.append("\(endpoint): \(error)")
            }
        }
        guard !answers.isEmpty else {
            throw RedisError.connection("no Redis Cluster node answered (\(problems.joined(separator: "; ")))")
        }
        // The map most nodes give; on a tie, the one that covers the most slots.
        var votes: [(topology: ClusterTopology, count: Int)] = []
        for answer in answers {
            if let index = votes.firstIndex(where: { $0.topology == answer }) { votes[index].count += 1 } else { votes.append((answer, 1)) }
        }
        let chosen = votes.max { ($0.count, -$0.topology.uncoveredSlots) < ($1.count, -$1.topology.uncoveredSlots) }!
        if votes.count > 1 {
            logger.warning(
                "Redis Cluster nodes disagree on the slot map (a failover or resharding under way); taking the one \(chosen.count) of \(answers.count) report"
            )
        }
        let previous = state.withLock { state in
            let previous = state.map.topology
            state.map.apply(chosen.topology)
            return previous
        }
        if previous != chosen.topology {
            logger.info(
                "Redis Cluster slot map", metadata: ["primaries": "\(chosen.topology.primaries.count)", "map": "\(chosen.topology)"])
        }
    }

    private func topology(from endpoint: RedisConfiguration.Endpoint) async throws -> ClusterTopology {
        let node = try node(endpoint)
        let shards = try await node.submit([RedisCommand("CLUSTER", "SHARDS")])[0]
        if case .error(let message) = shards {
            guard message.lowercased().contains("unknown subcommand") else { throw RedisError.server(message) }
            let slots = try RedisClient.checked(try await node.submit([RedisCommand("CLUSTER", "SLOTS")])[0])
            return try ClusterTopology.fromSlots(slots, queried: endpoint)
        }
        return try ClusterTopology.fromShards(shards, queried: endpoint, tls: configuration.tls != nil)
    }
}
