import Foundation
import RedisClient
import TestSupport
import TrackingCore
import Synchronization
import Testing

/// The whole system on a 3-primary, 3-replica Redis Cluster: the ingress, a worker and the API
/// each route their commands by slot.
@Suite("The system on a Redis Cluster", .serialized)
struct ClusterSystemTests {
    @Test func webhooksLookupsAndACancelRunOnACluster() async throws {
        let cluster = try RedisClusterServers()
        defer { cluster.stop() }
        try await cluster.waitUntilHealthy()
        let system = try await SystemTestCase.start(cluster: cluster)
        defer { Task { await system.finish() } }
        #expect(system.configuration.redis.cluster?.seeds.count == 6)
        // Bookings made in the simulator reach the ingress as webhooks, the worker maps them.
        var codes: [String] = []
        for hour in 9..<13 { codes.append(try await system.book(hour: hour)) }
        for code in codes {
            let lookup = try await system.api("/api/tracking/\(code)")
            #expect(lookup.status == 200 && lookup.json["status"] as? String == "Approved", "\(lookup.body)")
        }
        // A cancel goes through the command queue, Booxi and the echoed webhook.
        let cancel = try await system.api(.POST, "/api/tracking/\(codes[0])/cancel")
        #expect(cancel.status == 200 && cancel.json["status"] as? String == "Cancelled", "\(cancel.body)")
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await system.api("/api/tracking/\(codes[0])").json["status"] as? String == "Cancelled")
        #expect(try await system.api("/api/tracking/\(codes[1])").json["status"] as? String == "Approved")
        #expect(try await system.api("/api/tracking/unknownCode123").status == 404)
        // Repeated lookups come from the API's memory: key tracking runs on every primary, each
        // reporting the changes to the bookings it holds.
        #expect(try await system.redis.primaries().count == 3)
        func recordReads() async throws -> Int { try await CommandCounts.read(system.redis, everyPrimaryOf: cluster)["hgetall"] }
        func resetStats() async throws { _ = try await cluster.onEachPrimary(knownBy: system.redis) { try await $0.send("CONFIG", "RESETSTAT") } }
        for code in codes[1...] {
            try await system.waitUntil {
                try await resetStats()
                _ = try await system.api("/api/tracking/\(code)")
                return try await recordReads() == 0
            }
        }
        try await resetStats()
        for code in codes[1...] { for _ in 0..<5 { #expect(try await system.api("/api/tracking/\(code)").status == 200) } }
        #expect(try await recordReads() == 0)
        // A change on any primary shows at once.
        let keys = MappingKeys(cluster: true)
        for code in codes[1...] {
            try await system.redis.send("HSET", keys.booking(try await system.bookingID(of: code)), "status", "Cancelled")
            try await system.waitUntil(timeout: .seconds(2)) {
                try await system.api("/api/tracking/\(code)").json["status"] as? String == "Cancelled"
            }
        }
        // The bookings' keys are spread: not all on one primary.
        var slots: Set<Int> = []
        for code in codes { slots.insert(ClusterSlot.of(keys.booking(try await system.bookingID(of: code)))) }
        #expect(slots.count == codes.count)
        // Nothing was dead-lettered on the way.
        #expect(try await system.redis.send("LLEN", "bxt:{q}:dead").int == 0)
    }

    /// `queue.shards` 3: each shard's lists on its own primary, the ingress pushes each booking's
    /// webhooks to its shard, the worker's lanes drain every shard, and a command's status and
    /// lock sit in its booking's shard (the cancel answers within the API's wait).
    @Test func queueShardsSpreadTheQueuesOverThePrimaries() async throws {
        let cluster = try RedisClusterServers()
        defer { cluster.stop() }
        try await cluster.waitUntilHealthy()
        let system = try await SystemTestCase.start(["BXT_QUEUE_SHARDS": "3"], cluster: cluster)
        defer { Task { await system.finish() } }
        let shards = system.configuration.queueShards
        #expect(shards.count == 3)
        var primaries: Set<Int> = []
        for keys in shards.all { primaries.insert(try await cluster.primary(of: keys.webhooks).port) }
        #expect(primaries.count == 3)
        var codes: [String] = []
        for hour in 9..<15 { codes.append(try await system.book(hour: hour)) }
        var used: Set<Int> = []
        for code in codes {
            let lookup = try await system.api("/api/tracking/\(code)")
            #expect(lookup.status == 200 && lookup.json["status"] as? String == "Approved", "\(lookup.body)")
            used.insert(shards.forBooking(try await system.bookingID(of: code)).shard)
        }
        #expect(used.count > 1, "six bookings all in one shard: \(used)")
        for code in codes.prefix(3) {
            let cancel = try await system.api(.POST, "/api/tracking/\(code)/cancel")
            #expect(cancel.status == 200 && cancel.json["status"] as? String == "Cancelled", "\(cancel.body)")
        }
        // Every lane registered in every shard; nothing waiting, nothing dead anywhere.
        for keys in shards.all {
            #expect(try await system.redis.send("ZCARD", keys.workers).int ?? 0 >= 3)
            #expect(try await system.redis.llen(keys.webhooks) == 0)
            #expect(try await system.redis.llen(keys.dead) == 0)
        }
    }

    /// `redis-cli --cluster reshard` moves 1,000 slots (those of a code the visitors look up among
    /// them) from one primary to another while visitors look their bookings up (the API's cache
    /// off: every lookup reads Redis) and new bookings' webhooks come in. No visitor sees an error,
    /// every webhook is mapped, and the client's `ASK`/`MOVED` counts show in `/metrics`.
    @Test func aLiveReshardUnderLoadShowsNoVisitorAnError() async throws {
        let cluster = try RedisClusterServers()
        defer { cluster.stop() }
        try await cluster.waitUntilHealthy()
        let system = try await SystemTestCase.start(
            ["BXT_API_LOOKUP_CACHE_CAPACITY": "0", "BXT_API_LOOKUPS_PER_MINUTE_PER_IP": "1000000", "BXT_API_LOOKUPS_PER_SECOND_GLOBAL": "1000000"],
            cluster: cluster)
        defer { Task { await system.finish() } }
        var codes: [String] = []
        for hour in 9..<12 { codes.append(try await system.book(hour: hour)) }
        // The first booking takes a code whose key is in slots 0-999, the first 1,000 of the
        // primary that serves slot 0: the ones `reshard` moves.
        let keys = MappingKeys(cluster: true)
        let moving = (0..<100_000).lazy.map { "reshardCode\($0)" }.first { ClusterSlot.of(keys.code(TrackingCode($0)!)) < 1_000 }!
        let store = MappingStore(redis: system.redis, keys: keys, retentionSeconds: 3600)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let event = WebhookEvent(
            eventType: .modified, bookingID: try await system.bookingID(of: codes[0]), trackingCode: TrackingCode(moving)!, status: "Approved",
            eventTime: now)
        #expect(try await store.apply(event, receivedAt: now) == .applied)
        codes[0] = moving
        for code in codes { try await system.waitUntil { try await system.api("/api/tracking/\(code)").status == 200 } }
        let before = try await redirections(system)

        func nodeID(servingSlot slot: Int) async throws -> (id: String, port: Int) {
            let key = (0..<1_000_000).lazy.map { "k\($0)" }.first { ClusterSlot.of($0) == slot }!
            let node = try await cluster.primary(of: key)
            let client = RedisClient(configuration: node.configuration(poolSize: 1))
            defer { Task { await client.shutdown() } }
            return (try await client.send("CLUSTER", "MYID").string ?? "", node.port)
        }
        let (from, to) = (try await nodeID(servingSlot: 0), try await nodeID(servingSlot: 16_383))
        let done = Flag()
        let reshard = Task.detached { () -> Int32 in
            defer { done.set() }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [
                "redis-cli", "--cluster", "reshard", "127.0.0.1:\(from.port)", "--cluster-from", from.id, "--cluster-to", to.id,
                "--cluster-slots", "1000", "--cluster-yes",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try? process.run()
            process.waitUntilExit()
            return process.terminationStatus
        }
        // Visitors and webhooks while the slots move.
        var statuses: [Int: Int] = [:]
        var booked: [String] = []
        var round = 0
        let started = ContinuousClock.now
        repeat {
            for code in codes { statuses[try await system.api("/api/tracking/\(code)").status, default: 0] += 1 }
            if round % 5 == 0 { booked.append(try await system.book(daysAhead: 5, hour: 8 + booked.count % 10)) }
            round += 1
        } while !done.isSet && ContinuousClock.now - started < .seconds(60)
        #expect(await reshard.value == 0)
        for code in codes { statuses[try await system.api("/api/tracking/\(code)").status, default: 0] += 1 }
        #expect(statuses.keys.sorted() == [200], "lookup statuses during the reshard: \(statuses)")
        for code in booked { try await system.waitUntil { try await system.api("/api/tracking/\(code)").status == 200 } }
        // The slots moved, and the client followed them.
        #expect(ClusterSlot.of(keys.code(TrackingCode(moving)!)) < 1_000)
        #expect(try await cluster.primary(of: keys.code(TrackingCode(moving)!)).port == to.port)
        let after = try await redirections(system)
        #expect(after.ask + after.moved > before.ask + before.moved, "redirections before \(before), after \(after)")
        #expect(try await system.redis.send("LLEN", "bxt:{q}:dead").int == 0)
        print("reshard under load: \(statuses), \(booked.count) bookings, redirections \(before) -> \(after)")
    }

    /// The client's redirections so far, from the API's `/metrics`.
    func redirections(_ system: SystemTestCase) async throws -> (ask: Int, moved: Int) {
        let metrics = try await system.metrics()
        func value(_ kind: String) -> Int {
            let prefix = "booxi_tracking_redis_cluster_redirections_total{kind=\"\(kind)\"}"
            return metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0
        }
        return (value("ask"), value("moved"))
    }
}

/// Set once, read by another task.
private final class Flag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    var isSet: Bool { state.withLock { $0 } }
}
