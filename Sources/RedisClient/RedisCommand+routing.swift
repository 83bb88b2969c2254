extension RedisCommand {
    /// Commands that name no key: on a Cluster they go with a neighbouring command of their
    /// pipeline (``RedisCluster``), or to any primary when alone.
    private static let keyless: Set<String> = [
        "PING", "INFO", "CONFIG", "SCRIPT", "WAIT", "CLIENT", "CLUSTER", "TIME", "DBSIZE", "SCAN", "KEYS",
        "FLUSHALL", "FLUSHDB", "ROLE", "SELECT", "AUTH", "HELLO", "SUBSCRIBE", "PUBLISH", "MULTI", "EXEC",
        "DISCARD", "ASKING", "READONLY", "READWRITE", "COMMAND", "LASTSAVE", "SAVE", "BGSAVE", "DEBUG",
        "SLOWLOG", "LATENCY", "ECHO", "FUNCTION", "ACL", "MONITOR", "RESET",
    ]

    /// The key that decides the command's Cluster slot: the first key it names (all its keys must
    /// share that slot), or nil for a command without keys.
    var routingKey: ArraySlice<UInt8>? {
        let name = self.name
        switch name {
        case "EVALSHA", "EVAL", "EVALSHA_RO", "EVAL_RO", "FCALL", "FCALL_RO":
            // name, script, numkeys, keys…
            guard count > 3, let keys = Int(String(decoding: argument(2), as: UTF8.self)), keys > 0 else { return nil }
            return argument(3)
        case "MEMORY", "OBJECT":
            // MEMORY USAGE key, OBJECT ENCODING key
            return count > 2 ? argument(2) : nil
        default:
            if Self.keyless.contains(name) || count < 2 { return nil }
            return argument(1)
        }
    }

    /// Every key the command names, for the commands whose keys can be listed from their
    /// arguments alone (single-key commands, `DEL`/`UNLINK`/`EXISTS`/`MGET`/`TOUCH`, scripts,
    /// `BLMOVE`/`LMOVE`, `BLPOP`); the slot tests check that they share one slot.
    var keys: [ArraySlice<UInt8>] {
        switch name {
        case "EVALSHA", "EVAL", "EVALSHA_RO", "EVAL_RO", "FCALL", "FCALL_RO":
            guard count > 3, let keys = Int(String(decoding: argument(2), as: UTF8.self)), keys > 0, count >= 3 + keys else { return [] }
            return (3..<(3 + keys)).map(argument)
        case "DEL", "UNLINK", "EXISTS", "MGET", "TOUCH", "WATCH":
            return (1..<count).map(argument)
        case "BLMOVE", "LMOVE", "RPOPLPUSH", "BRPOPLPUSH", "SMOVE", "RENAME", "RENAMENX", "COPY":
            return count > 2 ? [argument(1), argument(2)] : []
        case "BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX":
            return count > 2 ? (1..<(count - 1)).map(argument) : []
        default:
            return routingKey.map { [$0] } ?? []
        }
    }

    /// The bytes of argument `index` (0 is the name).
    func argument(_ index: Int) -> ArraySlice<UInt8> {
        bytes[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
    }
}
