/// Errors of the Redis client, each a case a caller can act on.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The connection could not be made or was lost (the server went away, a reset, EOF).
    case connection(String)
    /// The server did not answer in time, or no pooled connection became free in time.
    case timeout(String)
    /// The server answered with an error reply; the message is the server's own.
    case server(String)
    /// The bytes on the wire were not valid RESP, or the reply had an unexpected shape.
    case protocolError(String)
    /// The client was shut down.
    case closed

    public var description: String {
        switch self {
        case .connection(let message): "Redis connection error: \(message)"
        case .timeout(let message): "Redis timeout: \(message)"
        case .server(let message): "Redis server error: \(message)"
        case .protocolError(let message): "Redis protocol error: \(message)"
        case .closed: "Redis client is shut down"
        }
    }
}
