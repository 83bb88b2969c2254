import Foundation
import RedisClient
import TestSupport
import TrackingCore
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
        var primaries: [RedisClient] = []
        for endpoint in try await system.redis.primaries() {
            guard case .tcp(_, let port) = endpoint else { continue }
            primaries.append(RedisClient(configuration: cluster.nodes.first { $0.port == port }!.configuration(poolSize: 1)))
        }
        #expect(primaries.count == 3)
        defer { for node in primaries { Task { await node.shutdown() } } }
        func recordReads() async throws -> Int {
            var reads = 0
            for node in primaries {
                let info = try await node.send("INFO", "commandstats").string ?? ""
                let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_hgetall:calls=") }
                reads += line.flatMap { Int($0.dropFirst("cmdstat_hgetall:calls=".count).prefix { $0.isNumber }) } ?? 0
            }
            return reads
        }
        func resetStats() async throws { for node in primaries { try await node.send("CONFIG", "RESETSTAT") } }
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
}
