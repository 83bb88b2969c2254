import Foundation
import RedisClient
import TestSupport
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
        // Repeated lookups come from the API's memory: key tracking runs on the mappings' primary.
        let mappings = RedisClient(configuration: try await cluster.primary(of: "bxt:{m}:code:x").configuration(poolSize: 1))
        defer { Task { await mappings.shutdown() } }
        func recordReads() async throws -> Int {
            let info = try await mappings.send("INFO", "commandstats").string ?? ""
            let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_hgetall:calls=") }
            return line.flatMap { Int($0.dropFirst("cmdstat_hgetall:calls=".count).prefix { $0.isNumber }) } ?? 0
        }
        try await system.waitUntil {
            try await mappings.send("CONFIG", "RESETSTAT")
            _ = try await system.api("/api/tracking/\(codes[2])")
            return try await recordReads() == 0
        }
        try await mappings.send("CONFIG", "RESETSTAT")
        for _ in 0..<10 { #expect(try await system.api("/api/tracking/\(codes[2])").status == 200) }
        #expect(try await recordReads() == 0)
        // A change on the cluster shows at once.
        try await system.redis.send("HSET", "bxt:{m}:booking:\(try await system.bookingID(of: codes[2]))", "status", "Cancelled")
        try await system.waitUntil(timeout: .seconds(2)) {
            try await system.api("/api/tracking/\(codes[2])").json["status"] as? String == "Cancelled"
        }
        // Nothing was dead-lettered on the way.
        #expect(try await system.redis.send("LLEN", "bxt:{q}:dead").int == 0)
    }
}
