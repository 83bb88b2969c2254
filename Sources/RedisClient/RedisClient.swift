import Logging
import NIOPosix

/// The async face of our hiredis wrapper: `try await redis.send(...)`, pipelines, Lua scripts and
/// blocking commands. Safe to share across tasks; one per process is enough.
///
/// Against one server (or the primary Sentinel names) it keeps one ``RedisNode``: a shared pool
/// for short commands and a blocking pool that only commands waiting server-side (`BLMOVE`,
/// `BLPOP`) use. Against a Cluster (``RedisConfiguration/cluster``) it keeps one per primary and
/// routes each command by its key's slot (``RedisCluster``).
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    /// Opens connections for ``RedisKeyTracker``: TLS, and with Sentinel the current primary (on a
    /// Cluster: the first seed).
    public let connector: RedisConnector
    /// With Sentinel: follows `+switch-master` until ``shutdown()``.
    private let sentinelWatch: Task<Void, Never>?
    /// One server (or Sentinel's primary), or nil on a Cluster.
    let single: RedisNode?
    let cluster: RedisCluster?
    let logger: Logger

    public init(configuration: RedisConfiguration, logger: Logger = Logger(label: "booxi-tracking.redis")) {
        self.configuration = configuration
        self.logger = logger
        if let seeds = configuration.cluster?.seeds {
            var first = configuration
            first.cluster = nil
            first.endpoint = seeds.first ?? configuration.endpoint
            self.connector = RedisConnector(configuration: first)
            self.single = nil
            self.cluster = RedisCluster(configuration: configuration, seeds: seeds, logger: logger)
            self.sentinelWatch = nil
        } else {
            let connector = RedisConnector(configuration: configuration)
            self.connector = connector
            self.single = RedisNode(configuration: configuration, connector: connector, logger: logger)
            self.cluster = nil
            self.sentinelWatch = connector.locator.map { locator in Task { await locator.watch(logger: logger) } }
        }
    }

    /// Opens connections to the server that holds keys under `prefix`: on a Cluster the primary of
    /// the prefix's slot (its hash tag must be complete in it), followed across failovers and
    /// resharding; otherwise ``connector``.
    public func connector(forKeysUnder prefix: String) -> RedisConnector {
        guard let cluster else { return connector }
        let slot = ClusterSlot.of(prefix)
        return RedisConnector(configuration: configuration) { () throws(RedisError) -> RedisConfiguration.Endpoint in
            try cluster.primary(serving: slot)
        }
    }

    /// On a Cluster, opens connections to `node` while the map names it a primary (key tracking per
    /// node: ``RedisKeyTracker``).
    func connector(toPrimary node: RedisConfiguration.Endpoint) -> RedisConnector {
        guard let cluster else { return connector }
        return RedisConnector(configuration: configuration) { () throws(RedisError) -> RedisConfiguration.Endpoint in
            guard cluster.knownPrimaries().contains(node) else { throw RedisError.connection("\(node) is no Redis Cluster primary now") }
            return node
        }
    }

    /// On a Cluster, the primaries its slot map names now, without waiting (empty before the first
    /// lookup); else the one server.
    func knownPrimaries() -> [RedisConfiguration.Endpoint] {
        cluster?.knownPrimaries() ?? [configuration.endpoint]
    }

    /// Whether this client talks to a Redis Cluster.
    public var isCluster: Bool { cluster != nil }

    /// The Cluster's primaries as its slot map names them (one server: its own address).
    public func primaries() async throws -> [RedisConfiguration.Endpoint] {
        guard let cluster else { return [configuration.endpoint] }
        return try await cluster.primaries()
    }

    /// Closes every connection and stops the I/O threads. Calls after this fail with ``RedisError/closed``.
    public func shutdown() async {
        sentinelWatch?.cancel()
        await sentinelWatch?.value
        await single?.close()
        await cluster?.close()
    }

    /// One round trip per node: the commands' replies in order.
    private func submit(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        assert(
            commands.allSatisfy { Set($0.keys.map(ClusterSlot.of)).count <= 1 },
            "every command's keys must share one Redis Cluster slot (docs/scaling.md): "
                + "\(commands.filter { Set($0.keys.map(ClusterSlot.of)).count > 1 }.map(\.name))")
        if let single { return try await single.submit(commands) }
        return try await cluster!.submit(commands)
    }

    /// Sends one command. An error reply throws ``RedisError/server(_:)``.
    @discardableResult
    public func send(_ command: RedisCommand) async throws -> RedisReply {
        try Self.checked(try await sendReturningErrors(command))
    }

    @discardableResult
    public func send(_ name: String, _ arguments: any RedisArgumentConvertible...) async throws -> RedisReply {
        try await send(RedisCommand(name, arguments))
    }

    /// Sends one command and returns an error reply as a value instead of throwing it.
    public func sendReturningErrors(_ command: RedisCommand) async throws -> RedisReply {
        try await submit([command])[0]
    }

    /// Sends every command of the pipeline in one round trip and returns one reply per command.
    /// Error replies stay in place; only transport failures throw.
    public func execute(_ pipeline: RedisPipeline) async throws -> [RedisReply] {
        guard !pipeline.isEmpty else { return [] }
        let commands = pipeline.commands
        let replies = try await submit(commands)
        let unloaded = pipeline.scripts.keys.filter { RedisScript.isNoScript(replies[$0]) }.sorted()
        guard unloaded.isEmpty else { return try await heal(unloaded, of: pipeline, replies: replies) }
        return replies
    }

    /// The server lost its script cache (a restart, a failover, `SCRIPT FLUSH`, a Cluster node
    /// never asked): those `EVALSHA`s did not run. Each is resent after loading its script, together
    /// with what finishes it (the `WAIT` of `ingress.replicaAcks`: the first `WAIT` ran for nothing),
    /// all in one round trip per node.
    private func heal(_ unloaded: [Int], of pipeline: RedisPipeline, replies: [RedisReply]) async throws -> [RedisReply] {
        let commands = pipeline.commands
        let anchors = RedisCommand.anchors(of: commands)
        var batch: [RedisCommand] = []
        var resent: [(load: Int, indices: [Int], first: Int)] = []
        var taken: Set<Int> = []
        for index in unloaded where !taken.contains(index) {
            let indices = [index] + commands.indices.filter { $0 > index && anchors[$0] == index && !taken.contains($0) }
            taken.formUnion(indices)
            resent.append((batch.count, indices, batch.count + 1))
            batch.append(pipeline.scripts[index]!.loadCommand)
            batch += indices.map { commands[$0] }
        }
        let healed = try await submit(batch)
        var replies = replies
        for (load, indices, first) in resent {
            for (offset, index) in indices.enumerated() { replies[index] = healed[first + offset] }
            // A script the server refuses to load (a Lua error) answers with that error, not NOSCRIPT.
            if healed[load].errorMessage != nil { replies[indices[0]] = healed[load] }
        }
        return replies
    }

    /// Runs a Lua script by SHA, loading it first if the server does not know it.
    @discardableResult
    public func eval(
        _ script: RedisScript, keys: [any RedisArgumentConvertible] = [], arguments: [any RedisArgumentConvertible] = []
    ) async throws -> RedisReply {
        var pipeline = RedisPipeline()
        pipeline.append(script, keys: keys, arguments: arguments)
        return try Self.checked(try await execute(pipeline)[0])
    }

    /// Runs a command that waits server-side (`BLMOVE ... timeout`, `BLPOP ... timeout`) on a
    /// connection reserved for such commands. `serverTimeout` is the wait the command itself
    /// names; the socket timeout is extended by it. Task cancellation interrupts the wait.
    @discardableResult
    public func sendBlocking(_ command: RedisCommand, serverTimeout: Duration) async throws -> RedisReply {
        try Self.checked(try await sendBlocking(pipeline: [command], serverTimeout: serverTimeout)[0])
    }

    /// ``sendBlocking(_:serverTimeout:)`` for a waiting command and what follows it on the same
    /// connection: Redis runs the rest once the first is done waiting, in the same round trip. One
    /// reply per command, errors among them (Redis' answers) left for the caller.
    public func sendBlocking(pipeline commands: [RedisCommand], serverTimeout: Duration) async throws -> [RedisReply] {
        if let single { return try await single.sendBlocking(pipeline: commands, serverTimeout: serverTimeout) }
        return try await cluster!.sendBlocking(pipeline: commands, serverTimeout: serverTimeout)
    }

    /// Every key matching `pattern`, in batches of about `count` (`SCAN … MATCH … COUNT`): on a
    /// Cluster, every primary's in turn, as `SCAN` sees one node only. Like `SCAN`, a key present
    /// for the whole scan is seen at least once; one added or removed meanwhile maybe not.
    public func scanKeys(matching pattern: String, count: Int = 1_000, _ body: ([String]) async throws -> Void) async throws {
        let nodes: [RedisConfiguration.Endpoint?] = cluster == nil ? [nil] : try await primaries()
        for endpoint in nodes {
            var cursor = "0"
            repeat {
                let command = RedisCommand("SCAN", cursor, "MATCH", pattern, "COUNT", count)
                let reply: RedisReply
                if let endpoint, let cluster {
                    reply = try Self.checked(try await cluster.submit([command], on: endpoint)[0])
                } else {
                    reply = try await send(command)
                }
                let parts = reply.array ?? []
                cursor = parts.first?.string ?? "0"
                let keys = parts.dropFirst().first?.array?.compactMap(\.string) ?? []
                if !keys.isEmpty { try await body(keys) }
            } while cursor != "0"
        }
    }

    /// Whether a `PING` succeeds now (for readiness probes).
    public func isReachable() async -> Bool {
        (try? await send("PING")) == .status("PONG")
    }

    /// An error reply as a thrown ``RedisError/server(_:)``, anything else as it is.
    public static func checked(_ reply: RedisReply) throws -> RedisReply {
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

}
