import BooxiModels
import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing
import TrackingCore

/// What one tracked booking costs Redis' memory, as `used_memory` grows: its record (with the
/// cached copy and a three-entry timeline: received, applied, a Booxi fetch) and its code key.
@Suite("Per-booking budget: bytes of Redis memory per tracked booking", .serialized)
struct BookingMemoryTests {
    static let bytesPerBooking = 1_000

    /// A booking as Booxi's API returns it (the shape of ../shared/fixtures/booking-A00006500.json).
    static func booking(_ id: String, start: Date) -> Booking {
        let iso = start.formatted(.iso8601)
        return Booking(
            bookingId: id, merchantId: 1002, bookingMethod: "Appointment", status: "Approved", isCompleted: false, startsOn: iso,
            totalClientTimespan: .init(start: iso, end: start.addingTimeInterval(1800).formatted(.iso8601), duration: 30), staffId: 42,
            staffFirstName: "Maya", location: "Business", modifiedOn: iso, createdOn: iso,
            items: [.init(serviceId: 100, serviceName: "Haircut", duration: 30)],
            client: .init(
                firstName: "Jane", lastName: "Doe", email: "jane.doe@example.com", presence: nil,
                trackingPage: .init(viewURL: "https://book.booxi.com/tracking/x")))
    }

    /// On one primary, and on a 3-primary Redis Cluster (the mappings' per-booking layout; memory
    /// summed over the primaries, each of which also keeps its keys' slot index).
    @Test(arguments: [false, true])
    func aTrackedBookingTakesAtMost1000Bytes(onACluster: Bool) async throws {
        let cluster = onACluster ? try RedisClusterServers() : nil
        let server = try cluster?.nodes[0] ?? RedisServer()
        defer { cluster?.stop() ?? server.stop() }
        try await cluster?.waitUntilHealthy()
        let redis = RedisClient(configuration: cluster?.configuration(poolSize: 8) ?? server.configuration())
        let mappings = MappingStore(redis: redis, keys: MappingKeys(cluster: onACluster), retentionSeconds: 30 * 86_400)
        /// `used_memory` without what replicas cost a primary: the replication backlog, a ring of
        /// fixed size (`repl-backlog-size`, 1 MiB) that fills as writes come, and the output
        /// buffers to its replicas. No booking's memory, and 0 without replicas.
        func usedMemory(_ client: RedisClient) async throws -> Int {
            let memory = try await client.info("memory")
            func figure(_ name: String) -> Int { Int(memory[name] ?? "") ?? 0 }
            return figure("used_memory") - figure("mem_replication_backlog") - figure("mem_clients_slaves")
        }
        func usedMemory() async throws -> Int {
            guard let cluster else { return try await usedMemory(redis) }
            return try await cluster.onEachPrimary(knownBy: redis, usedMemory).reduce(0, +)
        }
        let start = Date().addingTimeInterval(7 * 86_400)
        // Codes as long as Booxi's (36 characters), booking ids as Booxi's.
        func code(_ index: Int) -> TrackingCode { TrackingCode("wrFQzZecN1zLZLLchJeKOcEO9" + String(format: "%011d", index))! }
        func id(_ index: Int) -> String { String(format: "A%08d", index) }

        func track(_ range: Range<Int>) async throws {
            for chunk in stride(from: range.lowerBound, to: range.upperBound, by: 500) {
                let indices = chunk..<min(chunk + 500, range.upperBound)
                let deliveries = indices.map { index in
                    MappingStore.Delivery(
                        WebhookEvent(
                            eventType: .confirmed, bookingID: id(index), trackingCode: code(index), status: "Approved",
                            eventTime: JobEnvelope.nowMilliseconds()),
                        receivedAt: JobEnvelope.nowMilliseconds(), eventID: "msg_2KWPBgLlAfxdpx2AI5\(index)", jobID: JobEnvelope.newID())
                }
                for result in try await mappings.apply(deliveries) { #expect(try result.get() == .applied) }
                // The copies as a fetcher stores them, many at once (the client pipelines them).
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in indices {
                        group.addTask {
                            let copy = Self.booking(id(index), start: start)
                            return try await mappings.storeBooking(bookingID: id(index), booking: copy, status: copy.status, endsAt: copy.endDate)
                        }
                    }
                    for try await stored in group { #expect(stored) }
                }
            }
        }
        // A first batch warms the server up (scripts, the keyspace's first tables).
        try await track(0..<1_000)
        let before = try await usedMemory()
        // 100,000 in the full tier, as the budget is stated; 20,000 in --fast and on the cluster
        // (the figure is the same within a few bytes: docs/scaling.md#how-cost-grows).
        let count = TestTier.isFast || onACluster ? 20_000 : 100_000
        try await track(1_000..<(1_000 + count))
        let after = try await usedMemory()
        let perBooking = (after - before) / count

        let sample = mappings.keys.booking(id(4_321))
        #expect(try await redis.send("OBJECT", "ENCODING", sample).string == "listpack", "the record left Redis' compact encoding")
        let record = try #require(try await mappings.record(bookingID: id(4_321)))
        #expect(record.cachedBooking?.items?.first?.serviceName == "Haircut" && record.cachedBooking?.staffFirstName == "Maya")
        #expect(
            try await BookingTimeline(keyPrefix: "bxt:", cluster: onACluster).read(bookingID: id(4_321), using: redis).map(\.type) == [
                "webhook", "apply", "fetched",
            ])
        // Nothing Booxi sent that no page reads.
        let fields = try await redis.hgetall(sample)
        #expect(!fields.values.contains { String(decoding: $0, as: UTF8.self).contains("example.com") })
        #expect(perBooking <= Self.bytesPerBooking, "\(perBooking) bytes per tracked booking")
        print("budget: \(perBooking) bytes per tracked booking over \(count)\(onACluster ? " on a cluster" : "")")
        await redis.shutdown()
    }
}
