import RedisClient
import TestSupport
import Testing

@Suite("RedisClient replies and arguments against a real redis-server")
struct RedisReplyTests {
    @Test func decodesEveryReplyType() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }

        #expect(try await redis.send("SET", "k", "v") == .status("OK"))
        #expect(try await redis.send("INCRBY", "n", 41) == .integer(41))
        #expect(try await redis.send("GET", "k") == .bulkString(Array("v".utf8)))
        #expect(try await redis.send("GET", "missing") == .null)
        #expect(try await redis.send("SET", "empty", "") == .status("OK"))
        #expect(try await redis.send("GET", "empty") == .bulkString([]))
        try await redis.lpush("list", ["b", "a"])
        #expect(try await redis.send("LRANGE", "list", 0, -1) == .array([.bulkString([97]), .bulkString([98])]))
        #expect(try await redis.send("LRANGE", "missing", 0, -1) == .array([]))
        // Nested arrays and an integer inside, from Lua.
        let nested = try await redis.send("EVAL", "return {1, {'x', {2}}, 'y'}", 0)
        #expect(nested == .array([.integer(1), .array([.bulkString([120]), .array([.integer(2)])]), .bulkString([121])]))
        // A nil multi-bulk: BLPOP that times out.
        #expect(try await redis.sendBlocking(RedisCommand("BLPOP", "nothing", "0.05"), serverTimeout: .milliseconds(50)) == .null)
        // Error replies: thrown by send, returned in place by sendReturningErrors.
        await #expect(throws: RedisError.server("ERR unknown command 'NOPE', with args beginning with: ")) {
            try await redis.send("NOPE")
        }
        let error = try await redis.sendReturningErrors(RedisCommand("INCR", "k"))
        #expect(error.errorMessage == "ERR value is not an integer or out of range")
    }

    @Test func argumentsAndValuesAreBinarySafe() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }

        let binary: [UInt8] = [0, 1, 0xFF, 0xFE, 0, 0x80, 13, 10, 0x25, 0x73]  // NUL, invalid UTF-8, CRLF, "%s"
        let key: [UInt8] = [0x6B, 0, 0xC3]  // a key with a NUL and a truncated UTF-8 sequence
        try await redis.send(RedisCommand("SET", key, binary))
        #expect(try await redis.send(RedisCommand("GET", key)).bytes == binary)
        #expect(try await redis.send(RedisCommand("STRLEN", key)) == .integer(binary.count))
        let big = [UInt8](repeating: 0, count: 1 << 20)
        try await redis.send(RedisCommand("SET", "big", big))
        #expect(try await redis.get("big") == big)
        // Empty arguments between others keep their place.
        #expect(try await redis.send(RedisCommand("RPUSH", "parts", "", "a", [UInt8](), "", 7)) == .integer(5))
        #expect(try await redis.send(RedisCommand("LRANGE", "parts", 0, -1)) == .array(["", "a", "", "", "7"].map { .bulkString(Array($0.utf8)) }))
    }

    @Test func commandsKeepEachArgumentsBytes() {
        var command = RedisCommand("EVALSHA", "abc", 2, [UInt8](), "ké", [0, 0xFF] as [UInt8], "x"[...])
        command.append(-12)
        #expect(command.count == 8)
        #expect(command.name == "EVALSHA")
        #expect(
            command.arguments == [
                Array("EVALSHA".utf8), Array("abc".utf8), Array("2".utf8), [], Array("ké".utf8), [0, 0xFF], [0x78], Array("-12".utf8),
            ])
        #expect(RedisCommand("").arguments == [[]])
    }

    @Test func pipelineOfTenThousandCommandsIsOneBatchWithRepliesInOrder() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }

        var pipeline = RedisPipeline()
        for index in 0..<10_000 { pipeline.append("RPUSH", "numbers", index) }
        pipeline.append("INCR", "numbers")  // wrong type: an error reply in place
        pipeline.append("LLEN", "numbers")
        let replies = try await redis.execute(pipeline)
        #expect(replies.count == 10_002)
        #expect(replies[0] == .integer(1))
        #expect(replies[9_999] == .integer(10_000))
        #expect(replies[10_000].errorMessage?.hasPrefix("WRONGTYPE") == true)
        #expect(replies[10_001] == .integer(10_000))
        #expect(try await redis.lrange("numbers", 9_998, -1) == [Array("9998".utf8), Array("9999".utf8)])
    }

    @Test func scriptsAreLoadedAgainAfterScriptFlush() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }

        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        #expect(try await redis.eval(script, keys: ["counter"], arguments: [2]) == .integer(2))
        #expect(try await redis.send("SCRIPT", "EXISTS", script.sha1) == .array([.integer(1)]))
        try await redis.send("SCRIPT", "FLUSH")
        #expect(try await redis.eval(script, keys: ["counter"], arguments: [3]) == .integer(5))
        // In a pipeline too: the NOSCRIPT entry is healed, the others ran once.
        try await redis.send("SCRIPT", "FLUSH")
        var pipeline = RedisPipeline()
        pipeline.append("INCR", "other")
        pipeline.append(script, keys: ["counter"], arguments: [10])
        pipeline.append("INCR", "other")
        #expect(try await redis.execute(pipeline) == [.integer(1), .integer(15), .integer(2)])
        // What finishes a healed script (the ingress' WAIT for its replicas) is resent with it: the
        // first WAIT ran before the script wrote anything.
        try await redis.send("SCRIPT", "FLUSH")
        try await redis.send("CONFIG", "RESETSTAT")
        var waited = RedisPipeline()
        waited.append(script, keys: ["counter"], arguments: [1])
        waited.append("WAIT", 0, 0)
        #expect(try await redis.execute(waited) == [.integer(16), .integer(0)])
        #expect(try await redis.send("INFO", "commandstats").string?.contains("cmdstat_wait:calls=2,") == true)
        // A script error is a server error with Redis' message.
        await #expect(throws: RedisError.self) {
            try await redis.eval(RedisScript("return redis.call('NOPE')"))
        }
    }
}
