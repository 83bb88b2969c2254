/// A value that can be one argument of a Redis command. Arguments travel as raw bytes,
/// so values with NUL bytes or invalid UTF-8 are sent unchanged.
public protocol RedisArgumentConvertible {
    var redisArgument: [UInt8] { get }
    /// Appends the argument's bytes; the default goes through ``redisArgument``.
    func appendRedisArgument(to bytes: inout [UInt8])
}

extension RedisArgumentConvertible {
    public func appendRedisArgument(to bytes: inout [UInt8]) {
        bytes.append(contentsOf: redisArgument)
    }
}

extension String: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(utf8) }
    public func appendRedisArgument(to bytes: inout [UInt8]) { bytes.append(contentsOf: utf8) }
}

extension Substring: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(utf8) }
    public func appendRedisArgument(to bytes: inout [UInt8]) { bytes.append(contentsOf: utf8) }
}

extension Int: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(String(self).utf8) }
    public func appendRedisArgument(to bytes: inout [UInt8]) { bytes.append(contentsOf: String(self).utf8) }
}

extension Double: RedisArgumentConvertible {
    public var redisArgument: [UInt8] { Array(String(self).utf8) }
}

extension Array: RedisArgumentConvertible where Element == UInt8 {
    public var redisArgument: [UInt8] { self }
    public func appendRedisArgument(to bytes: inout [UInt8]) { bytes.append(contentsOf: self) }
}

/// One Redis command: its name and arguments as byte strings (sent with `redisAppendCommandArgv`,
/// never through a format string). The arguments lie back to back in one buffer, so building a
/// command costs two allocations whatever its number of arguments.
public struct RedisCommand: Sendable, Hashable {
    /// Every argument's bytes, the command name first, without separators.
    private(set) var bytes: [UInt8] = []
    /// Where each argument ends in ``bytes``.
    private(set) var ends: [Int] = []

    public init(_ name: String, _ arguments: [any RedisArgumentConvertible]) {
        ends.reserveCapacity(arguments.count + 1)
        append(name)
        for argument in arguments { append(argument) }
    }

    public init(_ name: String, _ arguments: any RedisArgumentConvertible...) {
        self.init(name, arguments)
    }

    /// Adds one argument at the end.
    public mutating func append(_ argument: some RedisArgumentConvertible) {
        argument.appendRedisArgument(to: &bytes)
        ends.append(bytes.count)
    }

    /// The number of arguments, the name included.
    public var count: Int { ends.count }

    /// Each argument's bytes, the name first.
    public var arguments: [[UInt8]] {
        ends.indices.map { Array(argument($0)) }
    }

    public var name: String { String(decoding: bytes[0..<(ends.first ?? 0)], as: UTF8.self).uppercased() }
}
