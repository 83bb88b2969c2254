import Logging
import NIOPosix

/// A bounded set of connections with its own threads for their blocking I/O.
///
/// hiredis calls block their thread for a whole round trip. Running them on a NIO event loop
/// would stall every socket of that loop, and running them on Swift's cooperative pool would
/// starve other tasks (it has one thread per core), so each pool owns an `NIOThreadPool` with
/// one thread per connection: a leased connection always finds a thread to run on.
actor RedisConnectionPool {
    let configuration: RedisConfiguration
    let connector: RedisConnector
    let maxConnections: Int
    let threadPool: NIOThreadPool
    private let logger: Logger
    private var idle: [RedisConnection] = []
    private var open = 0
    private var waiters: [Waiter] = []
    private var nextWaiterID = 0
    private var isClosed = false
    private var backoff: ReconnectBackoff
    /// When to log connect failures: the loops' outage policy, so a long outage is a few lines
    /// here too, not one per attempt (the backoff above stays short: requests are waiting).
    private var outage = OutageState(policy: .standard)

    private struct Waiter {
        let id: Int
        /// Resumed with a connection, or with `nil` when a slot freed up and the waiter should connect.
        let continuation: CheckedContinuation<RedisConnection?, any Error>
        let timeoutTask: Task<Void, Never>
    }

    init(connector: RedisConnector, maxConnections: Int, logger: Logger) {
        self.configuration = connector.configuration
        self.connector = connector
        self.maxConnections = max(1, maxConnections)
        self.logger = logger
        self.backoff = ReconnectBackoff()
        self.threadPool = NIOThreadPool(numberOfThreads: self.maxConnections)
        threadPool.start()
    }

    /// Connections currently open (idle or leased).
    var openConnections: Int { open }

    /// Hands out a healthy connection, connecting a new one if the pool has room, or waiting up
    /// to `poolWaitTimeout` for one to come back.
    func lease() async throws -> RedisConnection {
        while true {
            if isClosed { throw RedisError.closed }
            if let connection = idle.popLast() {
                // After a failover (Sentinel) connections to the old primary are not reused.
                guard connector.isCurrent(connection) else {
                    open -= 1
                    continue
                }
                if ContinuousClock.now - connection.lastUsed < configuration.healthCheckInterval {
                    return connection
                }
                if await isHealthy(connection) { return connection }
                open -= 1
                continue
            }
            if open < maxConnections {
                open += 1
                do {
                    return try await connect()
                } catch {
                    open -= 1
                    wakeOneWaiterToConnect()
                    throw error
                }
            }
            if let connection = try await waitForRelease() { return connection }
        }
    }

    /// Returns a connection; a broken one is closed and its slot freed.
    func release(_ connection: RedisConnection) {
        if connection.isBroken || isClosed {
            open -= 1
            wakeOneWaiterToConnect()
            return
        }
        if !waiters.isEmpty {
            let waiter = waiters.removeFirst()
            waiter.timeoutTask.cancel()
            waiter.continuation.resume(returning: connection)
            return
        }
        idle.append(connection)
    }

    func close() async {
        isClosed = true
        for waiter in waiters {
            waiter.timeoutTask.cancel()
            waiter.continuation.resume(throwing: RedisError.closed)
        }
        waiters.removeAll()
        open -= idle.count
        idle.removeAll()
        try? await threadPool.shutdownGracefully()
    }

    private func connect() async throws -> RedisConnection {
        if let retryIn = backoff.remainingWait(now: .now) {
            throw RedisError.connection(
                "Redis at \(configuration.displayAddress) is unreachable (\(backoff.lastError ?? "no answer")); "
                    + "next attempt in \(Int(retryIn.seconds * 1000)) ms")
        }
        let configuration = configuration
        do {
            let connector = self.connector
            let connection = try await threadPool.runIfActive { try connector.connect() }
            if let downFor = outage.succeeded(at: .now) {
                logger.info(
                    "Redis reachable again after \(downFor.outageText)",
                    metadata: ["redis": "\(configuration.displayAddress)", "down_seconds": "\(downFor.components.seconds)"])
            }
            backoff.succeeded()
            return connection
        } catch let error as RedisError {
            if case .server = error { throw error }  // AUTH/SELECT refused: not a reachability problem
            backoff.failed(error: error.description, now: .now)
            switch outage.failed(at: .now) {
            case .began: logger.warning("Redis connect failed", metadata: ["error": "\(error)"])
            case .continuing(let downFor): logger.warning("Redis still unreachable for \(downFor.outageText)", metadata: ["error": "\(error)"])
            case nil: break
            }
            throw error
        } catch {
            throw RedisError.closed
        }
    }

    private func isHealthy(_ connection: RedisConnection) async -> Bool {
        let reply = try? await threadPool.runIfActive { try connection.send(RedisCommand("PING")) }
        return reply == .status("PONG")
    }

    private func waitForRelease() async throws -> RedisConnection? {
        let id = nextWaiterID
        nextWaiterID += 1
        let timeout = configuration.poolWaitTimeout
        return try await withCheckedThrowingContinuation { continuation in
            let timeoutTask = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { await self?.expireWaiter(id) }
            }
            waiters.append(Waiter(id: id, continuation: continuation, timeoutTask: timeoutTask))
        }
    }

    private func expireWaiter(_ id: Int) {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = waiters.remove(at: index)
        waiter.continuation.resume(
            throwing: RedisError.timeout(
                "no pooled connection to \(configuration.displayAddress) became free within \(configuration.poolWaitTimeout)"
            ))
    }

    private func wakeOneWaiterToConnect() {
        guard !waiters.isEmpty else { return }
        let waiter = waiters.removeFirst()
        waiter.timeoutTask.cancel()
        waiter.continuation.resume(returning: nil)
    }
}
