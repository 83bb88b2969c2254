import Synchronization

/// The connection being listened on, so that cancellation can interrupt it whenever it comes:
/// before the connection exists, while it is set up, or while it waits for reports.
final class InterruptibleLink: Sendable {
    private let state = Mutex<(connection: RedisConnection?, cancelled: Bool)>((nil, false))

    func attach(_ connection: RedisConnection) {
        let cancelled = state.withLock { state in
            state.connection = connection
            return state.cancelled
        }
        if cancelled { connection.interrupt() }
    }

    func detach() {
        state.withLock { $0.connection = nil }
    }

    func cancel() {
        let connection = state.withLock { state in
            state.cancelled = true
            return state.connection
        }
        connection?.interrupt()
    }
}
