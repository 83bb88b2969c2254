import Foundation
@testable import RedisClient
import TestSupport
import Testing

/// The client against a real 3-primary, 3-replica Redis Cluster on loopback.
@Suite("Redis Cluster: slot map, redirections, per-node scripts, failover", .serialized)
struct ClusterClientTests {
    /// A client straight to one node (no routing), to look behind the cluster client's back.
    private func direct(_ node: RedisServer) -> RedisClient { RedisClient(configuration: node.configuration(poolSize: 1)) }

    @Test func commandsAndPipelinesReachTheirSlotsPrimaryInOrder() async throws {
        let cluster = try RedisClusterServers()
        defer { cluster.stop() }
        try await cluster.waitUntilHealthy()
        let redis = RedisClient(configuration: cluster.configuration())
        defer { Task { await redis.shutdown() } }
        // Keys tagged per booking spread; each lands on the primary of its slot.
        var pipeline = RedisPipeline()
        for index in 0..<300 { pipeline.append("SET", "bxt:{m:\(index)}:booking", "v\(index)") }
        for index in 0..<300 { pipeline.append("GET", "bxt:{m:\(index)}:booking") }
        let replies = try await redis.execute(pipeline)
        #expect(replies.prefix(300).allSatisfy { $0 == .status("OK") })
        #expect(replies.suffix(300).map(\.string) == (0..<300).map { "v\($0)" })
        var held: [Int] = []
        for node in cluster.nodes {
            let client = direct(node)
            let role = try await client.send("ROLE").array?.first?.string
            if role == "master" { held.append(try await client.send("DBSIZE").int ?? 0) }
            await client.shutdown()
        }
        #expect(held.count == 3 && held.reduce(0, +) == 300 && held.allSatisfy { $0 > 50 }, "\(held)")
        let sample = try await cluster.primary(of: "bxt:{m:7}:booking")
        let owner = direct(sample)
        #expect(try await owner.send("GET", "bxt:{m:7}:booking").string == "v7")
        await owner.shutdown()
        // A keyless command goes with the command before it: WAIT counts the replica that took the push.
        var push = RedisPipeline()
        push.append("LPUSH", "bxt:{q:1}:webhooks", "e1")
        push.append("WAIT", 1, 1_000)
        let acknowledged = try await redis.execute(push)
        #expect(acknowledged[0].int == 1 && acknowledged[1].int == 1, "\(acknowledged)")
        #expect(try await redis.primaries().count == 3)
    }

    @Test func scriptsAreLoadedOnEachNodeThatRunsThem() async throws {
        let cluster = try RedisClusterServers()
        defer { cluster.stop() }
        try await cluster.waitUntilHealthy()
        let redis = RedisClient(configuration: cluster.configuration())
        defer { Task { await redis.shutdown() } }
        let script = RedisScript("redis.call('SET', KEYS[1], ARGV[1]) return redis.call('GET', KEYS[1])")
        var pipeline = RedisPipeline()
        for index in 0..<30 { pipeline.append(script, keys: ["{s\(index)}:k"], arguments: ["\(index)"]) }
        let replies = try await redis.execute(pipeline)
        #expect(replies.map(\.string) == (0..<30).map { "\($0)" })
        for node in cluster.nodes {
            let client = direct(node)
            if try await client.send("ROLE").array?.first?.string == "master" {
                #expect(try await client.send("SCRIPT", "EXISTS", script.sha1).array?.first?.int == 1)
            }
            await client.shutdown()
        }

        // After the primaries lost their scripts (a failover, SCRIPT FLUSH): two scripts on two
        // nodes in one pipeline, each followed by its WAIT. Each is loaded on its own node, and its
        // WAIT is resent with it (the first WAIT ran before anything was written).
        let counter = RedisScript("return redis.call('INCR', KEYS[1])")
        let first = "{s0}:k"
        let firstNode = try await cluster.primary(of: first)
        var index = 1
        while try await cluster.primary(of: "{s\(index)}:k").port == firstNode.port { index += 1 }
        let second = "{s\(index)}:counter"  // the slot of {s\(index)}:k, a key of its own
        let secondNode = try await cluster.primary(of: second)
        for node in [firstNode, secondNode] {
            let client = direct(node)
            try await client.send("SCRIPT", "FLUSH")
            try await client.send("CONFIG", "RESETSTAT")
            await client.shutdown()
        }
        var healing = RedisPipeline()
        healing.append(script, keys: [first], arguments: ["again"])
        healing.append("WAIT", 1, 1_000)
        healing.append(counter, keys: [second], arguments: [])
        healing.append("WAIT", 1, 1_000)
        let healed = try await redis.execute(healing)
        #expect(healed[0].string == "again" && healed[1].int == 1 && healed[2].int == 1 && healed[3].int == 1, "\(healed)")
        for node in [firstNode, secondNode] {
            let client = direct(node)
            let stats = try await client.send("INFO", "commandstats").string ?? ""
            #expect(stats.contains("cmdstat_wait:calls=2,"), "node \(node.port): \(stats)")
            await client.shutdown()
        }
    }

    @Test func askDuringAMigrationAndMovedAfterIt() async throws {
        let cluster = try RedisClusterServers()
        defer { cluster.stop() }
        try await cluster.waitUntilHealthy()
        let redis = RedisClient(configuration: cluster.configuration())
        defer { Task { await redis.shutdown() } }
        let key = "{moving}:a"
        try await redis.send("SET", key, "before")  // the client learns the map
        let slot = ClusterSlot.of(key)
        let source = try await cluster.primary(of: key)
        let primaries = try await redis.primaries()
        let target = cluster.nodes.first { node in node.port != source.port && primaries.contains(.tcp(host: "127.0.0.1", port: node.port)) }!
        let from = direct(source)
        let to = direct(target)
        let sourceID = try #require(try await from.send("CLUSTER", "MYID").string)
        let targetID = try #require(try await to.send("CLUSTER", "MYID").string)
        try await to.send("CLUSTER", "SETSLOT", slot, "IMPORTING", sourceID)
        try await from.send("CLUSTER", "SETSLOT", slot, "MIGRATING", targetID)
        // A key the source no longer has is asked of the target (ASK): written there.
        try await redis.send("SET", "{moving}:b", "asked")
        #expect(try await to.send("DBSIZE").int == 1)
        var asked = RedisPipeline()
        asked.append("ASKING")
        asked.append("GET", "{moving}:b")
        #expect(try await to.execute(asked)[1].string == "asked")
        // A blocking pipeline asked of the target: each of its commands is sent after its own ASKING
        // (the target answers MOVED to a command without it).
        var seeded = RedisPipeline()
        seeded.append("ASKING")
        seeded.append("LPUSH", "{moving}:c", "job")
        #expect(try await to.execute(seeded)[1].int == 1)
        // (One key: a command of several keys, some not yet imported, answers TRYAGAIN there.)
        let drained = try await redis.sendBlocking(
            pipeline: [RedisCommand("BLPOP", "{moving}:c", 1), RedisCommand("LPUSH", "{moving}:c", "next")], serverTimeout: .seconds(1))
        #expect(drained == [.array([.bulkString(Array("{moving}:c".utf8)), .bulkString(Array("job".utf8))]), .integer(1)], "\(drained)")
        // A key still at the source is served there.
        #expect(try await redis.send("GET", key).string == "before")
        // The migration ends: the slot is the target's; the client follows MOVED with its old map.
        try await from.send("MIGRATE", "127.0.0.1", target.port, "", 0, 5_000, "KEYS", key)
        for node in [to, from] { try await node.send("CLUSTER", "SETSLOT", slot, "NODE", targetID) }
        #expect(try await redis.send("GET", key).string == "before")
        #expect(try await redis.send("GET", "{moving}:b").string == "asked")
        #expect(try await to.send("GET", key).string == "before")
        await from.shutdown()
        await to.shutdown()
    }

    @Test func blockingCommandsWaitOnTheirSlotsPrimary() async throws {
        let cluster = try RedisClusterServers()
        defer { cluster.stop() }
        try await cluster.waitUntilHealthy()
        let redis = RedisClient(configuration: cluster.configuration())
        defer { Task { await redis.shutdown() } }
        async let moved = redis.sendBlocking(
            pipeline: [RedisCommand("BLMOVE", "{q:2}:waiting", "{q:2}:processing", "RIGHT", "LEFT", 2), RedisCommand("LLEN", "{q:2}:waiting")],
            serverTimeout: .seconds(2))
        try await Task.sleep(for: .milliseconds(200))
        try await redis.send("LPUSH", "{q:2}:waiting", "job")
        let replies = try await moved
        #expect(replies == [.bulkString(Array("job".utf8)), .integer(0)])
    }

    @Test func aKilledPrimarysReplicaTakesOverAndTheClientFollows() async throws {
        let cluster = try RedisClusterServers()
        defer { cluster.stop() }
        try await cluster.waitUntilHealthy()
        let redis = RedisClient(configuration: cluster.configuration())
        defer { Task { await redis.shutdown() } }
        let key = "{failover}:counter"
        var push = RedisPipeline()
        push.append("INCR", key)
        push.append("WAIT", 1, 1_000)
        #expect(try await redis.execute(push) == [.integer(1), .integer(1)])
        let victim = try await cluster.primary(of: key)
        victim.kill()
        // The replica is promoted within a few node timeouts; meanwhile commands fail, then succeed.
        var value: Int?
        let deadline = ContinuousClock.now + .seconds(20)
        while value == nil, ContinuousClock.now < deadline {
            value = try? await redis.send("INCR", key).int
            if value == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(value == 2, "the acknowledged write survived on the promoted replica")
        let promoted = try await cluster.primary(of: key)
        #expect(promoted.port != victim.port)
        #expect(try await redis.primaries().count == 3)
    }

    @Test func topologyFromShardsAndFromSlotsAgree() async throws {
        let cluster = try RedisClusterServers()
        defer { cluster.stop() }
        try await cluster.waitUntilHealthy()
        let node = cluster.nodes[0]
        let client = direct(node)
        let queried = RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: node.port)
        let shards = try ClusterTopology.fromShards(try await client.send("CLUSTER", "SHARDS"), queried: queried, tls: false)
        let slots = try ClusterTopology.fromSlots(try await client.send("CLUSTER", "SLOTS"), queried: queried)
        #expect(shards == slots)
        #expect(shards.primaries.count == 3 && shards.uncoveredSlots == 0)
        await client.shutdown()
    }

    @Test func aShardWithoutAnOnlinePrimaryLeavesItsSlotsUncovered() throws {
        func text(_ value: String) -> RedisReply { .bulkString(Array(value.utf8)) }
        func node(_ endpoint: String, _ port: Int, role: String, health: String) -> RedisReply {
            .array([
                text("id"), text("x"), text("port"), .integer(port), text("endpoint"), text(endpoint), text("role"), text(role), text("health"),
                text(health),
            ])
        }
        let reply = RedisReply.array([
            .array([
                text("slots"), .array([.integer(0), .integer(99), .integer(200), .integer(299)]), text("nodes"),
                .array([node("10.0.0.2", 7001, role: "replica", health: "online"), node("?", 7000, role: "master", health: "online")]),
            ]),
            .array([
                text("slots"), .array([.integer(100), .integer(199)]), text("nodes"),
                .array([node("10.0.0.3", 7002, role: "master", health: "fail")]),
            ]),
        ])
        let topology = try ClusterTopology.fromShards(reply, queried: .tcp(host: "10.0.0.9", port: 7005), tls: false)
        #expect(topology.primaries == [.tcp(host: "10.0.0.9", port: 7000)])
        #expect(topology.ranges.map(\.first) == [0, 200] && topology.uncoveredSlots == ClusterSlot.count - 200)
        #expect(throws: RedisError.self) { try ClusterTopology.fromShards(.integer(1), queried: .tcp(host: "h", port: 1), tls: false) }
    }

    @Test func redirectionsAndKeysAreReadFromReplies() {
        let here = RedisConfiguration.Endpoint.tcp(host: "10.0.0.1", port: 7000)
        #expect(ClusterRedirect(.error("MOVED 3999 127.0.0.1:6381"), queried: here) == .moved(slot: 3999, to: .tcp(host: "127.0.0.1", port: 6381)))
        #expect(ClusterRedirect(.error("ASK 12 :6390"), queried: here) == .ask(slot: 12, to: .tcp(host: "10.0.0.1", port: 6390)))
        #expect(ClusterRedirect(.error("MOVED 1 ::1:6380"), queried: here) == .moved(slot: 1, to: .tcp(host: "::1", port: 6380)))
        #expect(ClusterRedirect(.error("TRYAGAIN Multiple keys request during rehashing of slot"), queried: here) == .tryAgain)
        #expect(ClusterRedirect(.error("CLUSTERDOWN The cluster is down"), queried: here) == .tryAgain)
        #expect(ClusterRedirect(.error("ERR wrong number of arguments"), queried: here) == nil)
        #expect(ClusterRedirect(.error("MOVED nonsense"), queried: here) == nil)
        #expect(ClusterRedirect(.status("OK"), queried: here) == nil)
        func key(_ command: RedisCommand) -> String? { command.routingKey.map { String(decoding: $0, as: UTF8.self) } }
        #expect(key(RedisCommand("GET", "a")) == "a")
        #expect(key(RedisCommand("EVALSHA", "sha", 2, "k1", "k2", "arg")) == "k1")
        #expect(key(RedisCommand("EVALSHA", "sha", 0, "arg")) == nil)
        #expect(key(RedisCommand("WAIT", 1, 100)) == nil)
        #expect(key(RedisCommand("CLUSTER", "SHARDS")) == nil)
        #expect(key(RedisCommand("MEMORY", "USAGE", "k")) == "k")
        #expect(RedisCommand("DEL", "a", "b").keys.map { String(decoding: $0, as: UTF8.self) } == ["a", "b"])
        #expect(RedisCommand("BLPOP", "a", "b", 5).keys.map { String(decoding: $0, as: UTF8.self) } == ["a", "b"])
        #expect(RedisCommand("BLMOVE", "a", "b", "RIGHT", "LEFT", 1).keys.count == 2)
    }

    @Test func aMovedSeenDuringALookupWinsOverTheMapItBrings() {
        let a = RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: 7000)
        let b = RedisConfiguration.Endpoint.tcp(host: "127.0.0.1", port: 7001)
        let old = ClusterTopology(ranges: [.init(first: 0, last: 8191, primary: a), .init(first: 8192, last: 16383, primary: b)])
        var map = ClusterSlotMap()
        map.apply(old)
        #expect(map.primary(of: 5) == a && map.primary(of: 9000) == b)
        // A lookup starts, slot 5 moves to b meanwhile, and the lookup brings a map from before.
        map.lookupStarted()
        map.moved(5, to: b)
        map.apply(old)
        map.lookupEnded()
        #expect(map.primary(of: 5) == b && map.primary(of: 6) == a)
        // Without a lookup under way, the next map decides.
        map.moved(6, to: b)
        map.lookupStarted()
        map.apply(old)
        map.lookupEnded()
        #expect(map.primary(of: 5) == a && map.primary(of: 6) == a)
        // A failed lookup leaves nothing behind for the next.
        map.lookupStarted()
        map.moved(7, to: b)
        map.lookupEnded()
        map.apply(old)
        #expect(map.primary(of: 7) == a)
    }

    @Test func keylessCommandsGoWithTheCommandTheyPrepareOrFinish() {
        let load = RedisCommand("SCRIPT", "LOAD", "return 1")
        let wait = RedisCommand("WAIT", 1, 100)
        let push = RedisCommand("EVALSHA", "sha", 1, "q", "x")
        // A healed pipeline: each load goes with the script after it, each WAIT with the one before.
        #expect(RedisCommand.anchors(of: [load, push, wait, load, push, wait]) == [1, 1, 1, 4, 4, 4])
        #expect(RedisCommand.anchors(of: [wait, push, load]) == [1, 1, 1])
        #expect(RedisCommand.anchors(of: [RedisCommand("MULTI"), push, RedisCommand("EXEC")]) == [1, 1, 1])
        #expect(RedisCommand.anchors(of: [wait, RedisCommand("PING")]) == [0, 1])
    }
}
