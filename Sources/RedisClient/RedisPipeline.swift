/// A batch of commands sent in one round trip; ``RedisClient/execute(_:)`` returns one reply per
/// command, in order. Error replies stay in place as ``RedisReply/error(_:)``: one failing command
/// does not hide the others' results.
public struct RedisPipeline: Sendable {
    public private(set) var commands: [RedisCommand] = []
    /// Scripts used by `EVALSHA` entries, by index, so a `NOSCRIPT` reply can be healed.
    var scripts: [Int: RedisScript] = [:]

    public init() {}

    public init(_ commands: [RedisCommand]) {
        self.commands = commands
    }

    public var count: Int { commands.count }
    public var isEmpty: Bool { commands.isEmpty }

    public mutating func append(_ command: RedisCommand) {
        commands.append(command)
    }

    public mutating func append(_ name: String, _ arguments: any RedisArgumentConvertible...) {
        commands.append(RedisCommand(name, arguments))
    }

    /// Appends an `EVALSHA` of `script`; a `NOSCRIPT` reply is healed by loading the script and
    /// re-running that command alone.
    public mutating func append(
        _ script: RedisScript, keys: [any RedisArgumentConvertible], arguments: [any RedisArgumentConvertible]
    ) {
        assert(
            Set(keys.map { ClusterSlot.of($0.redisArgument) }).count <= 1,
            "a script's keys must share one Redis Cluster slot (docs/scaling.md): \(keys.map { String(decoding: $0.redisArgument, as: UTF8.self) })")
        scripts[commands.count] = script
        commands.append(script.evalSHACommand(keys: keys, arguments: arguments))
    }
}
