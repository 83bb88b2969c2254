import Logging
import NIOPosix

/// The connections to one Redis server: a shared pool for short commands (group-committed by
/// ``RedisAutoPipeline``) and a pool reserved for commands that wait server-side (`BLMOVE`,
/// `BLPOP`), so a blocked worker never holds a connection others need. A single-server client has
/// one; a Cluster client has one per node it has talked to.
final class RedisNode: Sendable {
    let configuration: RedisConfiguration
    /// Opens every connection: TLS, and with Sentinel the current primary.
    let connector: RedisConnector
    let pool: RedisConnectionPool
    let blockingPool: RedisConnectionPool
    let autoPipeline: RedisAutoPipeline

    init(configuration: RedisConfiguration, connector: RedisConnector, logger: Logger) {
        self.configuration = configuration
        self.connector = connector
        let pool = RedisConnectionPool(connector: connector, maxConnections: configuration.poolSize, logger: logger)
        self.pool = pool
        self.blockingPool = RedisConnectionPool(connector: connector, maxConnections: configuration.blockingPoolSize, logger: logger)
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

    func close() async {
        await pool.close()
        await blockingPool.close()
    }

    /// Sends the commands in one round trip (group-committed with other callers'); one reply per
    /// command, error replies in place.
    func submit(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        try await autoPipeline.submit(commands)
    }

    /// A waiting command and what follows it, on a connection of the blocking pool; the socket
    /// timeout is extended by `serverTimeout`. Task cancellation interrupts the wait.
    func sendBlocking(pipeline commands: [RedisCommand], serverTimeout: Duration) async throws -> [RedisReply] {
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

    static func redisError(_ error: any Error) -> RedisError {
        if let error = error as? RedisError { return error }
        if error is CancellationError { return .connection("interrupted by cancellation") }
        return .closed  // NIOThreadPool refuses work once shut down
    }
}
