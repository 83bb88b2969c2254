import Foundation

/// Typed shortcuts for the commands the project uses; anything else goes through `send`.
extension RedisClient {
    public func get(_ key: String) async throws -> [UInt8]? {
        try await send("GET", key).bytes
    }

    public func set(_ key: String, _ value: some RedisArgumentConvertible) async throws {
        try await send("SET", key, value)
    }

    @discardableResult
    public func del(_ keys: String...) async throws -> Int {
        try await send(RedisCommand("DEL", keys)).int ?? 0
    }

    @discardableResult
    public func lpush(_ key: String, _ values: [some RedisArgumentConvertible]) async throws -> Int {
        try await send(RedisCommand("LPUSH", [key] + values)).int ?? 0
    }

    public func llen(_ key: String) async throws -> Int {
        try await send("LLEN", key).int ?? 0
    }

    public func lrange(_ key: String, _ start: Int, _ stop: Int) async throws -> [[UInt8]] {
        try await send("LRANGE", key, start, stop).array?.compactMap(\.bytes) ?? []
    }

    public func hget(_ key: String, _ field: String) async throws -> [UInt8]? {
        try await send("HGET", key, field).bytes
    }

    public func hgetall(_ key: String) async throws -> [String: [UInt8]] {
        try await send("HGETALL", key).fields
    }

    /// `BLPOP key timeout`: the popped value, or nil when the timeout passed.
    public func blpop(_ key: String, timeout: Duration) async throws -> [UInt8]? {
        let reply = try await sendBlocking(
            RedisCommand("BLPOP", key, Self.timeoutArgument(timeout)), serverTimeout: timeout)
        return reply.array?.last?.bytes
    }

    /// `BLMOVE source destination RIGHT LEFT timeout`: the moved value, or nil when the timeout passed.
    public func blmove(from source: String, to destination: String, timeout: Duration) async throws -> [UInt8]? {
        try await sendBlocking(
            RedisCommand("BLMOVE", source, destination, "RIGHT", "LEFT", Self.timeoutArgument(timeout)),
            serverTimeout: timeout
        ).bytes
    }

    /// `BLMOVE source destination RIGHT LEFT timeout`, then `LLEN source` in the same round trip:
    /// the moved value (nil when the timeout passed) and what the source still holds after it.
    public func blmoveCounting(from source: String, to destination: String, timeout: Duration) async throws -> (moved: [UInt8]?, left: Int) {
        let replies = try await sendBlocking(
            pipeline: [RedisCommand("BLMOVE", source, destination, "RIGHT", "LEFT", Self.timeoutArgument(timeout)), RedisCommand("LLEN", source)],
            serverTimeout: timeout)
        return (try Self.checked(replies[0]).bytes, try Self.checked(replies[1]).int ?? 0)
    }

    static func timeoutArgument(_ timeout: Duration) -> String {
        String(format: "%.3f", timeout.seconds)
    }
}
