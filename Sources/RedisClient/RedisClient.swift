import Logging
import NIOPosix

/// The async face of our hiredis wrapper: `try await redis.send(...)`, pipelines, Lua scripts and
/// blocking commands. Safe to share across tasks; one per process is enough.
///
/// Two pools keep blocking commands (`BLMOVE`, `BLPOP`) from holding a shared connection: the
/// shared pool serves short commands, the blocking pool serves only commands that wait server-side.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    /// Opens every connection: TLS, and with Sentinel the current primary.
    public let connector: RedisConnector
    /// With Sentinel: follows `+switch-master` until ``shutdown()``.
    private let sentinelWatch: Task<Void, Never>?
    let pool: RedisConnectionPool
    let blockingPool: RedisConnectionPool
    let autoPipeline: RedisAutoPipeline
    let logger: Logger

    public init(configuration: RedisConfiguration, logger: Logger = Logger(label: "booxi-tracking.redis")) {
        self.configuration = configuration
        self.logger = logger
        let connector = RedisConnector(configuration: configuration)
        self.connector = connector
        self.pool = RedisConnectionPool(connector: connector, maxConnections: configuration.poolSize, logger: logger)
        self.blockingPool = RedisConnectionPool(connector: connector, maxConnections: configuration.blockingPoolSize, logger: logger)
        self.sentinelWatch = connector.locator.map { locator in Task { await locator.watch(logger: logger) } }
        let pool = self.pool
        // At most a quarter of the connections flushing at once, and a second trip only once 32
        // commands wait (RedisAutoPipeline): fewer, fuller round trips, measured faster for the
        // ingress and the API than one flusher per connection (scripts/bench.sh).
        self.autoPipeline = RedisAutoPipeline(maxFlushers: max(1, configuration.poolSize / 4)) { commands in
            try await Self.withConnection(from: pool) { connection in
                let replies = try connection.send(pipeline: commands)
                connector.inspect(replies, of: connection)
                return replies
            }
        }
    }

    /// Closes every connection and stops the I/O threads. Calls after this fail with ``RedisError/closed``.
    public func shutdown() async {
        sentinelWatch?.cancel()
        await sentinelWatch?.value
        await pool.close()
        await blockingPool.close()
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
        try await autoPipeline.submit([command])[0]
    }

    /// Sends every command of the pipeline in one round trip and returns one reply per command.
    /// Error replies stay in place; only transport failures throw.
    public func execute(_ pipeline: RedisPipeline) async throws -> [RedisReply] {
        guard !pipeline.isEmpty else { return [] }
        let commands = pipeline.commands
        var replies = try await autoPipeline.submit(commands)
        let unloaded = pipeline.scripts.filter { RedisScript.isNoScript(replies[$0.key]) }
        if !unloaded.isEmpty {
            // The server lost its script cache (restart, SCRIPT FLUSH): those EVALSHAs did not run.
            var heal = RedisPipeline(Set(unloaded.values).map(\.loadCommand))
            let loads = heal.count
            let indices = unloaded.keys.sorted()
            for index in indices { heal.append(commands[index]) }
            let healed = try await autoPipeline.submit(heal.commands)
            for (offset, index) in indices.enumerated() { replies[index] = healed[loads + offset] }
            // A script the server refuses to load (a Lua error) answers with that error, not NOSCRIPT.
            for (loadIndex, command) in heal.commands.prefix(loads).enumerated() {
                guard case .error = healed[loadIndex] else { continue }
                for index in indices where unloaded[index]?.loadCommand == command { replies[index] = healed[loadIndex] }
            }
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
        let socketTimeout = serverTimeout + configuration.commandTimeout
        let normalTimeout = configuration.commandTimeout
        let connection = try await blockingPool.lease()
        let result = await Result(catching: {
            try await withTaskCancellationHandler {
                try await blockingPool.threadPool.runIfActive { [connector] in
                    connection.setCommandTimeout(socketTimeout)
                    defer { connection.setCommandTimeout(normalTimeout) }
                    do {
                        let replies = try connection.send(pipeline: commands)
                        connector.inspect(replies, of: connection)
                        return replies
                    } catch {
                        connector.failed(connection)
                        throw error
                    }
                }
            } onCancel: {
                connection.interrupt()
            }
        })
        // Once cancelled, `interrupt()` may have shut the socket down at any point (even before the
        // command ran, as the thread pool skips work cancelled before it started): never reuse it.
        if Task.isCancelled { connection.discard() }
        await blockingPool.release(connection)
        return try result.mapError(Self.redisError).get()
    }

    /// Whether a `PING` succeeds now (for readiness probes).
    public func isReachable() async -> Bool {
        (try? await send("PING")) == .status("PONG")
    }

    private static func withConnection<T: Sendable>(
        from pool: RedisConnectionPool, _ body: @escaping @Sendable (RedisConnection) throws -> T
    ) async throws -> T {
        let connection = try await pool.lease()
        do {
            let result = try await pool.threadPool.runIfActive { try body(connection) }
            await pool.release(connection)
            return result
        } catch {
            if connection.isBroken { pool.connector.failed(connection) }
            await pool.release(connection)
            throw Self.redisError(error)
        }
    }

    /// An error reply as a thrown ``RedisError/server(_:)``, anything else as it is.
    public static func checked(_ reply: RedisReply) throws -> RedisReply {
        if case .error(let message) = reply { throw RedisError.server(message) }
        return reply
    }

    private static func redisError(_ error: any Error) -> RedisError {
        if let error = error as? RedisError { return error }
        if error is CancellationError { return .connection("interrupted by cancellation") }
        return .closed  // NIOThreadPool refuses work once shut down
    }
}
