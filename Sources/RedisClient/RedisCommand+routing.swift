extension RedisCommand {
    /// Commands that name no key: on a Cluster they go with a neighbouring command of their
    /// pipeline (``RedisCluster``), or to any primary when alone.
    private static let keyless: Set<String> = [
        "PING", "INFO", "CONFIG", "SCRIPT", "WAIT", "CLIENT", "CLUSTER", "TIME", "DBSIZE", "SCAN", "KEYS",
        "FLUSHALL", "FLUSHDB", "ROLE", "SELECT", "AUTH", "HELLO", "SUBSCRIBE", "PUBLISH", "MULTI", "EXEC",
        "DISCARD", "ASKING", "READONLY", "READWRITE", "COMMAND", "LASTSAVE", "SAVE", "BGSAVE", "DEBUG",
        "SLOWLOG", "LATENCY", "ECHO", "FUNCTION", "ACL", "MONITOR", "RESET",
    ]

    /// Keyless commands that prepare the command after them (`SCRIPT LOAD` before its `EVALSHA`,
    /// `MULTI`, `ASKING`); any other keyless command finishes the one before it (`WAIT`, `EXEC`).
    private static let preparesNext: Set<String> = ["SCRIPT", "MULTI", "ASKING"]

    /// For each command of a pipeline, the keyed command it runs with: itself when keyed; for a
    /// keyless one the neighbour it prepares or finishes (the other neighbour when that one does not
    /// exist); itself when the pipeline names no key. A Cluster sends each command to its anchor's
    /// node, and a command resent (a redirection, a `NOSCRIPT`) takes what is anchored to it along.
    static func anchors(of commands: [RedisCommand]) -> [Int] {
        anchors(of: commands, keyed: commands.map { $0.routingKey != nil })
    }

    /// ``anchors(of:)`` when the caller already knows which commands are keyed (a Cluster's router
    /// has their slots), so no key is read twice.
    static func anchors(of commands: [RedisCommand], keyed: [Bool]) -> [Int] {
        var previous = [Int?](repeating: nil, count: commands.count)
        var next = [Int?](repeating: nil, count: commands.count)
        var last: Int?
        for index in commands.indices {
            if keyed[index] { last = index } else { previous[index] = last }
        }
        last = nil
        for index in commands.indices.reversed() {
            if keyed[index] { last = index } else { next[index] = last }
        }
        return commands.indices.map { index in
            if keyed[index] { return index }
            let preferred = preparesNext.contains(commands[index].name) ? next[index] ?? previous[index] : previous[index] ?? next[index]
            return preferred ?? index
        }
    }

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
