import Foundation
import RedisClient
import TestSupport
import Testing

@Suite("Cluster slots: CRC16 as Redis Cluster computes it")
struct ClusterSlotTests {
    @Test func knownSlotsAndHashTags() {
        // From the Redis Cluster specification.
        #expect(ClusterSlot.of("123456789") == 0x31C3 & 16383)
        #expect(ClusterSlot.of("{user1000}.following") == ClusterSlot.of("{user1000}.followers"))
        #expect(ClusterSlot.of("foo{}{bar}") == ClusterSlot.of("foo{}{bar}") && ClusterSlot.of("foo{}{bar}") != ClusterSlot.of("bar"))
        #expect(ClusterSlot.of("foo{{bar}}zap") == ClusterSlot.of("{bar"))
        #expect(ClusterSlot.of("foo{bar}{zap}") == ClusterSlot.of("bar"))
        #expect(ClusterSlot.of("bxt:{q}:webhooks") == ClusterSlot.of("bxt:{q}:job:42"))
    }

    @Test func agreesWithRedisClusterKeyslot() async throws {
        // The cluster bus port defaults to the port + 10000, past 65535 for a high free port: name one.
        let server = try RedisServer(extraArguments: [
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes-\(UUID().uuidString).conf", "--cluster-port", "\(freeLoopbackPort())",
        ])
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration(poolSize: 2))
        var random = SeededRandom(seed: 16384)
        var keys = ["bxt:{q}:webhooks", "bxt:{m}:code:abc123XYZ", "bxt:{r}:booxi:queue", "{", "}", "{}", "a{b}c", "é{ü}"]
        for _ in 0..<500 {
            let length = Int.random(in: 1...24, using: &random)
            keys.append(String((0..<length).map { _ in "ab{}:xyz0129é".randomElement(using: &random)! }))
        }
        for key in keys {
            let expected = try await redis.send("CLUSTER", "KEYSLOT", key).int
            #expect(ClusterSlot.of(key) == expected, "\(key)")
        }
        await redis.shutdown()
    }
}
