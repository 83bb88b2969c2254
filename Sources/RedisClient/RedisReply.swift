/// One RESP2 reply as hiredis 0.14 decodes it.
///
/// hiredis 0.14 reports a nil bulk string (`$-1`) and a nil multi-bulk (`*-1`) with the same
/// `REDIS_REPLY_NIL` type, so both arrive here as ``null``.
public enum RedisReply: Sendable, Hashable {
    case status(String)
    case error(String)
    case integer(Int)
    case bulkString([UInt8])
    case array([RedisReply])
    case null

    /// The reply as text: status and bulk strings (decoded as UTF-8, lossy), integers in decimal.
    public var string: String? {
        switch self {
        case .status(let text): text
        case .bulkString(let bytes): String(decoding: bytes, as: UTF8.self)
        case .integer(let value): String(value)
        default: nil
        }
    }

    /// The raw bytes of a bulk or status reply.
    public var bytes: [UInt8]? {
        switch self {
        case .bulkString(let bytes): bytes
        case .status(let text): Array(text.utf8)
        default: nil
        }
    }

    /// Integers, and bulk strings holding a decimal integer (as `GET` of a counter returns).
    public var int: Int? {
        switch self {
        case .integer(let value): value
        case .bulkString(let bytes): Int(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// A flat `[field, value, field, value, ...]` array (as `HGETALL` answers) as a dictionary.
    public var fields: [String: [UInt8]] {
        guard let flat = array else { return [:] }
        var result: [String: [UInt8]] = [:]
        var index = 0
        while index + 1 < flat.count {
            if let field = flat[index].string, let value = flat[index + 1].bytes { result[field] = value }
            index += 2
        }
        return result
    }

    /// An `XRANGE`/`XREVRANGE` answer: each entry's id and fields, in the answer's order.
    public var streamEntries: [(id: String, fields: [String: [UInt8]])] {
        (array ?? []).compactMap { item in
            guard let pair = item.array, pair.count == 2, let id = pair[0].string else { return nil }
            return (id, pair[1].fields)
        }
    }

    /// The server's error message, if this is an error reply.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }
}
