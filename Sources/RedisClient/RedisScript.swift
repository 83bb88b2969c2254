import Crypto

/// A Lua script run with `EVALSHA`; the client loads it with `SCRIPT LOAD` when the server
/// answers `NOSCRIPT` (after a restart or `SCRIPT FLUSH`).
public struct RedisScript: Sendable, Hashable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).hexString
    }

    func evalSHACommand(keys: [any RedisArgumentConvertible], arguments: [any RedisArgumentConvertible]) -> RedisCommand {
        RedisCommand("EVALSHA", [sha1, keys.count] + keys + arguments)
    }

    var loadCommand: RedisCommand { RedisCommand("SCRIPT", "LOAD", source) }

    static func isNoScript(_ reply: RedisReply) -> Bool {
        reply.errorMessage?.hasPrefix("NOSCRIPT") ?? false
    }
}
