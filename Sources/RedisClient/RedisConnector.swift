/// Opens every connection of a client (shared pool, blocking pool, key tracking): to the
/// configured endpoint, or with Sentinel to the primary the sentinels name, confirmed with `ROLE`.
/// Blocking: it runs on the client's threads.
///
/// With Sentinel, each discovery of the primary has a generation. A pooled connection from an
/// older generation is not handed out again (``isCurrent(_:)``), so after a failover every role
/// moves to the new primary without a restart. The primary is looked up again when a connection
/// to it fails, when it answers `READONLY` (it became a replica) or `LOADING`, and when a sentinel
/// announces `+switch-master` (``SentinelLocator/watch(logger:)``).
public final class RedisConnector: Sendable {
    let configuration: RedisConfiguration
    let locator: SentinelLocator?
    /// On a Cluster: the primary that serves one slot now (``RedisCluster/primary(serving:)``).
    let slotOwner: (@Sendable () throws(RedisError) -> RedisConfiguration.Endpoint)?

    public init(configuration: RedisConfiguration) {
        self.configuration = configuration
        self.locator = configuration.sentinel.map { SentinelLocator(configuration: configuration, sentinel: $0) }
        self.slotOwner = nil
    }

    /// Connections to whichever primary serves a slot, followed as the Cluster's map changes.
    init(configuration: RedisConfiguration, slotOwner: @escaping @Sendable () throws(RedisError) -> RedisConfiguration.Endpoint) {
        var own = configuration
        own.cluster = nil
        own.sentinel = nil
        self.configuration = own
        self.locator = nil
        self.slotOwner = slotOwner
    }

    func connect() throws(RedisError) -> RedisConnection {
        if let slotOwner { return try RedisConnection(configuration: configuration, address: try slotOwner()) }
        guard let locator else { return try RedisConnection(configuration: configuration, address: configuration.endpoint) }
        let (address, generation) = try locator.primary()
        do {
            let connection = try RedisConnection(configuration: configuration, address: address)
            try locator.confirmPrimary(connection)
            connection.generation = generation
            return connection
        } catch {
            locator.invalidate(address)
            throw error
        }
    }

    /// Whether a pooled connection still goes to the current primary.
    func isCurrent(_ connection: RedisConnection) -> Bool {
        if let slotOwner { return (try? slotOwner()) == connection.address }
        guard let locator else { return true }
        return connection.generation == locator.generation
    }

    /// Looks at a round trip's replies: `READONLY` (the server is a replica now) or `LOADING` (it
    /// is starting) retire the connection, and with Sentinel the primary is looked up again.
    func inspect(_ replies: [RedisReply], of connection: RedisConnection) {
        for reply in replies {
            guard case .error(let message) = reply, message.hasPrefix("READONLY") || message.hasPrefix("LOADING") else { continue }
            connection.discard()
            locator?.invalidate(connection.address)
            return
        }
    }

    /// A connection failed (connection lost, timeout): with Sentinel, its primary may be gone.
    func failed(_ connection: RedisConnection) {
        locator?.invalidate(connection.address)
    }
}
