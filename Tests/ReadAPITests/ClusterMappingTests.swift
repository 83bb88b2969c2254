import Foundation
import RedisClient
import TestSupport
import Testing

@testable import Operations
@testable import TrackingCore

/// The mappings' per-booking layout on a real 3-primary, 3-replica Redis Cluster: bookings spread
/// over the shards, and a change of code, in steps, shows no visitor a wrong booking at any step.
@Suite("Mappings on a Redis Cluster", .serialized)
struct ClusterMappingTests {
    static func event(_ type: WebhookEvent.EventType, _ booking: String, _ code: String, at time: Int64) -> WebhookEvent {
        WebhookEvent(eventType: type, bookingID: booking, trackingCode: TrackingCode(code)!, status: "Approved", eventTime: time)
    }

    /// A fresh 3-primary, 3-replica cluster, a client, and the mappings in their per-booking layout.
    static func onACluster(_ body: (RedisClusterServers, RedisClient, MappingKeys, MappingStore) async throws -> Void) async throws {
        let cluster = try RedisClusterServers()
        defer { cluster.stop() }
        try await cluster.waitUntilHealthy()
        let redis = RedisClient(configuration: cluster.configuration())
        let keys = MappingKeys(cluster: true)
        do {
            try await body(cluster, redis, keys, MappingStore(redis: redis, keys: keys, retentionSeconds: 3600))
        } catch {
            await redis.shutdown()
            throw error
        }
        await redis.shutdown()
    }

    @Test func bookingsSpreadEvenlyOverThePrimaries() async throws {
        try await Self.onACluster { cluster, redis, keys, store in
            let bookings = 30_000
            for chunk in stride(from: 0, to: bookings, by: 1_000) {
                let batch = (chunk..<(chunk + 1_000)).map { index in
                    MappingStore.Delivery(Self.event(.confirmed, "B\(index)", "spreadcode\(index)", at: 1_700_000_000_000), receivedAt: 1)
                }
                for result in try await store.apply(batch) { #expect(try result.get() == .applied) }
            }
            let found = try await cluster.onEachPrimary(knownBy: redis) { node in
                var found = (records: 0, codes: 0)
                var cursor = "0"
                repeat {
                    let reply = try await node.send("SCAN", cursor, "COUNT", 5_000).array ?? []
                    cursor = reply[0].string ?? "0"
                    for key in reply[1].array ?? [] {
                        guard let key = key.string else { continue }
                        if keys.bookingID(ofKey: key) != nil { found.records += 1 } else if keys.code(ofKey: key) != nil { found.codes += 1 }
                    }
                } while cursor != "0"
                return found
            }
            #expect(found.count == 3)
            let (records, codes) = (found.map(\.records), found.map(\.codes))
            #expect(records.reduce(0, +) == bookings && codes.reduce(0, +) == bookings, "records \(records), codes \(codes)")
            for (share, codeShare) in zip(records, codes) {
                // 33% ± 5% of the bookings on each primary, and of the codes.
                #expect(abs(Double(share) / Double(bookings) - 1.0 / 3) <= 0.05, "records per primary: \(records)")
                #expect(abs(Double(codeShare) / Double(bookings) - 1.0 / 3) <= 0.05, "codes per primary: \(codes)")
            }
            print("cluster spread: records per primary \(records), code keys per primary \(codes)")
        }
    }

    /// A change of code from C1 to C2 in its three steps (claim, apply, finish), stopped after each
    /// as a crash would, with lookups between: each code answers the booking or 404, never another
    /// booking, and the redelivered event finishes the change.
    @Test func aCrashBetweenTheStepsShowsNoVisitorAWrongBooking() async throws {
        try await Self.onACluster { _, redis, keys, store in
            let (c1, c2) = (TrackingCode("codeOneAaaa")!, TrackingCode("codeTwoBbbb")!)
            #expect(ClusterSlot.of(keys.code(c1)) != ClusterSlot.of(keys.booking("B1")))
            #expect(try await store.apply(Self.event(.confirmed, "B1", c1.value, at: 1_000), receivedAt: 1) == .applied)
            #expect(try await store.resolve(c1)?.bookingID == "B1")
            let modified = MappingStore.Delivery(Self.event(.modified, "B1", c2.value, at: 2_000), receivedAt: 2)
            let now = Int(Date().timeIntervalSince1970)

            // A crash after the claim: C2's key names B1, whose record still names C1.
            _ = try await redis.send("SET", keys.code(c2), "B1", "NX", "EXAT", now + 60)
            #expect(try await store.resolve(c2) == nil)
            #expect(try await store.resolve(c1)?.bookingID == "B1")
            // The pointer of a claim under way stays (it will be right in a moment).
            #expect(try await redis.send("EXISTS", keys.code(c2)).int == 1)

            // A crash after the apply, before the finish: the record names C2, C1 is retired.
            var pipeline = RedisPipeline()
            store.appendApply(modified, nowSeconds: now, claim: .held, to: &pipeline)
            #expect(try await redis.execute(pipeline)[0].array?.first?.string == "applied")
            #expect(try await store.resolve(c2)?.bookingID == "B1")
            // C1's key still names B1, which gave it up: 404, and the pointer goes.
            #expect(try await redis.send("GET", keys.code(c1)).string == "B1")
            #expect(try await store.resolve(c1) == nil)
            #expect(try await redis.send("EXISTS", keys.code(c1)).int == 0)

            // The job is redelivered: its apply is `unchanged`, and it finishes the change: C2's key
            // expires with the record.
            #expect(try await store.apply([modified])[0].get() == .unchanged)
            let recordExpiry = try await redis.send("EXPIRETIME", keys.booking("B1")).int ?? 0
            let codeExpiry = try await redis.send("EXPIRETIME", keys.code(c2)).int
            #expect(recordExpiry > 0 && codeExpiry == recordExpiry)

            // A late event with the retired code changes nothing, and claims nothing.
            #expect(
                try await store.apply([MappingStore.Delivery(Self.event(.modified, "B1", c1.value, at: 1_500), receivedAt: 3)])[0].get() == .retired)
            #expect(try await redis.send("EXISTS", keys.code(c1)).int == 0)
            // Another booking's event with B1's code is a conflict: C2 stays B1's.
            #expect(try await store.apply(Self.event(.confirmed, "B2", c2.value, at: 3_000), receivedAt: 4) == .codeOwnedByAnother)
            #expect(try await store.resolve(c2)?.bookingID == "B1")
            #expect(try await store.record(bookingID: "B2") == nil)
            // A pointer whose booking gave the code up for good (retired it) is taken over; here a
            // crash before B9's finish left it.
            let (c3, c4) = (TrackingCode("codeThreeCc")!, TrackingCode("codeFourDdd")!)
            #expect(try await store.apply(Self.event(.confirmed, "B9", c3.value, at: 1_000), receivedAt: 5) == .applied)
            #expect(try await store.apply(Self.event(.modified, "B9", c4.value, at: 2_000), receivedAt: 5) == .applied)
            _ = try await redis.send("SET", keys.code(c3), "B9", "EX", 3600)
            #expect(try await store.apply(Self.event(.confirmed, "B3", c3.value, at: 3_000), receivedAt: 5) == .applied)
            #expect(try await store.resolve(c3)?.bookingID == "B3")
            // A pointer whose booking neither names the code nor gave it up (a claim whose apply
            // is under way): the event waits, nothing is written, and the code is still 404.
            let c5 = TrackingCode("codeFiveEee")!
            _ = try await redis.send("SET", keys.code(c5), "B8", "EX", 3600)
            #expect(try await store.apply(Self.event(.confirmed, "B4", c5.value, at: 3_000), receivedAt: 5) == .codeClaimUnderWay)
            #expect(try await store.record(bookingID: "B4") == nil)
            #expect(try await store.resolve(c5) == nil)
            #expect(try await redis.send("GET", keys.code(c5)).string == "B8")
            // Two events of one booking in one batch, the older refused: the newer's code stays
            // claimed (a refusal gives back only a code the booking can never take).
            let (c6, c7) = (TrackingCode("codeSixFfff")!, TrackingCode("codeSevenGg")!)
            #expect(try await store.apply(Self.event(.confirmed, "B5", c6.value, at: 7_000), receivedAt: 5) == .applied)
            let pair = try await store.apply([
                MappingStore.Delivery(Self.event(.modified, "B5", c7.value, at: 5_000), receivedAt: 6),
                MappingStore.Delivery(Self.event(.modified, "B5", c7.value, at: 10_000), receivedAt: 6),
            ])
            #expect(try pair.map { try $0.get() } == [.stale, .applied])
            #expect(try await store.resolve(c7)?.bookingID == "B5")
            #expect(try await store.resolve(c6) == nil)
            // An erase takes the booking's code keys in their own slots (no CROSSSLOT).
            let operations = OperationsStore(redis: redis, keyPrefix: "bxt:", retentionHours: 1, heartbeatTTL: .seconds(10))
            let erasure = try await operations.erase(bookingID: "B1")
            #expect(erasure.keysDeleted >= 3)
            #expect(try await redis.send("EXISTS", keys.code(c2)).int == 0)
            #expect(try await store.resolve(c2) == nil)
            #expect(try await store.apply(Self.event(.modified, "B1", c2.value, at: 9_000), receivedAt: 6) == .erased)
            #expect(try await redis.send("EXISTS", keys.code(c2)).int == 0)
        }
    }
}
