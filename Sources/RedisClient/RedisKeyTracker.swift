import Logging
import NIOPosix

/// Tells a process which keys changed in Redis, so it can keep copies of them in memory: Redis'
/// server-assisted client-side caching (`CLIENT TRACKING ... BCAST PREFIX ...`, Redis 6+).
///
/// One dedicated connection asks Redis to report every change to keys under `prefixes` (writes,
/// deletes, expiries, evictions), redirected to itself and subscribed to `__redis__:invalidate`,
/// which is how RESP2 clients receive them. Its blocking reads run on a thread of their own.
///
/// A copy may be trusted only between ``Event/started`` and ``Event/stopped``: outside that span
/// changes go unreported. The connection is probed with `PING` when quiet (`heartbeat`), so a
/// dead link is noticed within two heartbeats; then `stopped` is reported and it reconnects with
/// back-off until cancelled.
public struct RedisKeyTracker: Sendable {
    public enum Event: Sendable, Equatable {
        /// From now on every change under the prefixes is reported.
        case started
        /// These keys changed.
        case changed([String])
        /// The database was flushed: every key may have changed.
        case flushed
        /// Changes are no longer reported (connection lost or tracking ended).
        case stopped
    }

    public static let channel = "__redis__:invalidate"

    let connector: RedisConnector
    let prefixes: [String]
    let heartbeat: Duration
    let logger: Logger
    /// On a Cluster, when the prefixes' keys spread over every slot: the client whose map names
    /// the primaries, each of which gets a tracking connection (``runPerPrimary(_:_:)``).
    let cluster: RedisClient?

    /// A tracker on `redis`' server: the same endpoint, TLS, and (with Sentinel) the same primary.
    /// On a Cluster, on the primary that holds the prefixes' slot when they share one hash tag;
    /// otherwise on every primary.
    public init(redis: RedisClient, prefixes: [String], heartbeat: Duration = .seconds(1), logger: Logger) {
        // Keys under a prefix share its slot only when it holds a whole hash tag.
        let tagged = prefixes.allSatisfy { ClusterSlot.hashTag(of: Array($0.utf8)) != nil }
        let oneSlot = tagged && Set(prefixes.map(ClusterSlot.of)).count <= 1
        self.init(
            connector: redis.connector(forKeysUnder: prefixes.first ?? ""), prefixes: prefixes, heartbeat: heartbeat, logger: logger,
            cluster: redis.isCluster && !oneSlot ? redis : nil)
    }

    public init(configuration: RedisConfiguration, prefixes: [String], heartbeat: Duration = .seconds(1), logger: Logger) {
        self.init(connector: RedisConnector(configuration: configuration), prefixes: prefixes, heartbeat: heartbeat, logger: logger)
    }

    init(connector: RedisConnector, prefixes: [String], heartbeat: Duration, logger: Logger, cluster: RedisClient? = nil) {
        self.connector = connector
        self.prefixes = prefixes
        self.heartbeat = heartbeat
        self.logger = logger
        self.cluster = cluster
    }

    /// Reports events until the task is cancelled; `onEvent` runs on the tracker's own thread, one
    /// event at a time, and must not block. Ends with ``Event/stopped``.
    public func run(_ onEvent: @escaping @Sendable (Event) -> Void) async {
        if let cluster { return await runPerPrimary(cluster, onEvent) }
        await runOnOneServer(onEvent)
    }

    func runOnOneServer(_ onEvent: @escaping @Sendable (Event) -> Void) async {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        let link = InterruptibleLink()
        let outage = OutagePause("key tracking", logger: logger)
        // A session that got as far as tracking ends the outage then, not when it is lost later.
        let report: @Sendable (Event) -> Void = { event in
            if event == .started { outage.succeeded() }
            onEvent(event)
        }
        while !Task.isCancelled {
            let outcome = await Result(catching: {
                try await withTaskCancellationHandler {
                    try await thread.runIfActive {
                        let connection = try connector.connect()
                        link.attach(connection)
                        defer { link.detach() }
                        try listen(on: connection, report)
                    }
                } onCancel: {
                    link.cancel()
                }
            })
            guard !Task.isCancelled, case .failure(let error) = outcome else { break }
            onEvent(.stopped)
            // A server that refuses tracking (Redis < 6, CLIENT disabled, ACL) is reachable, not
            // out: it is asked again once a minute, which logs once a minute by itself.
            if case RedisError.server = error {
                outage.succeeded()
                logger.warning("Redis refused key tracking; asking again in a minute", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(60))
            } else {
                await outage.failed(error)
            }
        }
        onEvent(.stopped)
        try? await thread.shutdownGracefully()
    }

    /// Sets tracking up on `connection`, reports ``Event/started``, then reports changes until the
    /// connection fails.
    private func listen(on connection: RedisConnection, _ onEvent: @Sendable (Event) -> Void) throws -> Never {
        guard case .integer(let id) = try RedisClient.checked(try connection.send(RedisCommand("CLIENT", ["ID"]))) else {
            throw RedisError.protocolError("CLIENT ID did not return an id")
        }
        var tracking: [any RedisArgumentConvertible] = ["TRACKING", "ON", "REDIRECT", id, "BCAST"]
        for prefix in prefixes { tracking += ["PREFIX", prefix] }
        _ = try RedisClient.checked(try connection.send(RedisCommand("CLIENT", tracking)))
        let subscribed = try RedisClient.checked(try connection.send(RedisCommand("SUBSCRIBE", [Self.channel])))
        guard subscribed.array?.first?.string == "subscribe" else {
            throw RedisError.protocolError("SUBSCRIBE \(Self.channel) was not confirmed")
        }
        onEvent(.started)
        try connection.listen(heartbeat: heartbeat) { reply in
            // After a failover (Sentinel) the old primary may live on as a replica: its reports
            // are not the new primary's. Leave it (at the latest at the next heartbeat's reply)
            // and start over, with an empty cache, on the new one.
            guard connector.isCurrent(connection) else { return connection.interrupt() }
            if let event = Self.event(from: reply) { onEvent(event) }
        }
    }

    /// The event a pushed reply stands for: `["message", channel, [keys]]`, or a null payload for
    /// a flush. Heartbeat replies (`["pong", ""]`) stand for nothing.
    static func event(from reply: RedisReply) -> Event? {
        guard let parts = reply.array, parts.count == 3, parts[0].string == "message", parts[1].string == channel else { return nil }
        switch parts[2] {
        case .array(let keys): return .changed(keys.compactMap(\.string))
        case .bulkString(let key): return .changed([String(decoding: key, as: UTF8.self)])
        default: return .flushed
        }
    }
}
