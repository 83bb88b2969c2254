import Logging
import NIOPosix
import Synchronization

/// Finds the primary through Redis Sentinel and follows it across failovers: asks the sentinels
/// in turn (`SENTINEL get-master-addr-by-name`), and listens on one of them for `+switch-master`.
final class SentinelLocator: Sendable {
    let sentinel: RedisConfiguration.Sentinel
    /// The data connections' settings (TLS, timeouts), for the sentinels too.
    let configuration: RedisConfiguration
    /// The sentinels' own: their password, no user, database 0.
    let sentinelConfiguration: RedisConfiguration
    private let state = Mutex<(primary: RedisConfiguration.Endpoint?, generation: Int)>((nil, 0))

    init(configuration: RedisConfiguration, sentinel: RedisConfiguration.Sentinel) {
        self.configuration = configuration
        self.sentinel = sentinel
        var own = configuration
        own.sentinel = nil
        own.username = nil
        own.password = sentinel.password
        own.database = 0
        self.sentinelConfiguration = own
    }

    var generation: Int { state.withLock { $0.generation } }

    /// The current primary, asking the sentinels when it is not known.
    func primary() throws(RedisError) -> (RedisConfiguration.Endpoint, Int) {
        if let known = state.withLock({ state in state.primary.map { ($0, state.generation) } }) { return known }
        let found = try discover()
        return state.withLock { state in
            if state.primary != found {
                state.primary = found
                state.generation += 1
            }
            return (found, state.generation)
        }
    }

    /// Forgets `address` as the primary (if it still is), so the next connection asks again.
    func invalidate(_ address: RedisConfiguration.Endpoint) {
        state.withLock { state in
            guard state.primary == address else { return }
            state.primary = nil
            state.generation += 1
        }
    }

    /// A sentinel announced a new primary.
    func switched(to address: RedisConfiguration.Endpoint) {
        state.withLock { state in
            guard state.primary != address else { return }
            state.primary = address
            state.generation += 1
        }
    }

    private func discover() throws(RedisError) -> RedisConfiguration.Endpoint {
        var problems: [String] = []
        for address in sentinel.sentinels {
            do {
                let connection = try RedisConnection(configuration: sentinelConfiguration, address: address)
                let reply = try connection.send(RedisCommand("SENTINEL", ["get-master-addr-by-name", sentinel.masterName]))
                guard let parts = reply.array, parts.count == 2, let host = parts[0].string, let port = parts[1].string.flatMap({ Int($0) }) else {
                    problems.append("\(address): \(reply.errorMessage ?? "does not monitor '\(sentinel.masterName)'")")
                    continue
                }
                return .tcp(host: host, port: port)
            } catch {
                problems.append("\(error)")
            }
        }
        throw .connection("no sentinel named the primary of '\(sentinel.masterName)': \(problems.joined(separator: "; "))")
    }

    /// Checks that a new connection really goes to a primary (`ROLE`): right after a failover a
    /// sentinel may still name the old one.
    func confirmPrimary(_ connection: RedisConnection) throws(RedisError) {
        let role = try connection.send(RedisCommand("ROLE")).array?.first?.string
        guard role == "master" else {
            connection.discard()
            throw .connection("\(connection.displayAddress) is not the primary (ROLE \(role ?? "unknown")); waiting for the sentinels")
        }
    }

    /// Listens for `+switch-master` on one sentinel after another until cancelled, on a thread of
    /// its own (its reads block).
    func watch(logger: Logger) async {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        var next = 0
        let outage = OutagePause("sentinel watch", logger: logger)
        while !Task.isCancelled {
            let address = sentinel.sentinels[next % sentinel.sentinels.count]
            next += 1
            let link = InterruptibleLink()
            let outcome = await Result(catching: {
                try await withTaskCancellationHandler {
                    try await thread.runIfActive { [self] in
                        let connection = try RedisConnection(configuration: sentinelConfiguration, address: address)
                        link.attach(connection)
                        defer { link.detach() }
                        _ = try RedisClient.checked(try connection.send(RedisCommand("SUBSCRIBE", ["+switch-master"])))
                        outage.succeeded()
                        try connection.listen(heartbeat: .seconds(1)) { reply in
                            guard let parts = reply.array, parts.count == 3, parts[0].string == "message", let text = parts[2].string else { return }
                            // "<master name> <old ip> <old port> <new ip> <new port>"
                            let fields = text.split(separator: " ").map(String.init)
                            guard fields.count == 5, fields[0] == sentinel.masterName, let port = Int(fields[4]) else { return }
                            switched(to: .tcp(host: fields[3], port: port))
                            logger.warning(
                                "Redis primary switched",
                                metadata: ["master": "\(fields[0])", "from": "\(fields[1]):\(fields[2])", "to": "\(fields[3]):\(port)"])
                        }
                    }
                } onCancel: {
                    link.cancel()
                }
            })
            guard !Task.isCancelled, case .failure(let error) = outcome else { break }
            await outage.failed(error)
        }
        try? await thread.shutdownGracefully()
    }
}
