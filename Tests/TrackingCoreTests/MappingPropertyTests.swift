import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing
import TrackingCore

@Suite("Mapping updates: duplicates and reordering end in the in-order state")
struct MappingPropertyTests {
    struct Delivery {
        let body: String
        let receivedAt: Int64
    }

    /// One booking's life: confirmed, then up to two modifications (each a new code), maybe a cancel.
    static func history(booking: Int, random: inout some RandomNumberGenerator) -> (deliveries: [Delivery], codes: [String]) {
        var time: Int64 = 1_800_000_000_000 + Int64(booking) * 1_000_000
        var codes = ["c\(booking)x0"]
        var deliveries = [Delivery(body: webhookBody("booking.confirmed", booking: "B\(booking)", code: codes[0], eventTime: time), receivedAt: time)]
        for step in (0..<Int.random(in: 0...2, using: &random)).map({ $0 + 1 }) {
            time += 60_000
            codes.append("c\(booking)x\(step)")
            deliveries.append(
                Delivery(body: webhookBody("booking.modified", booking: "B\(booking)", code: codes.last!, eventTime: time), receivedAt: time))
        }
        if Bool.random(using: &random) {
            time += 60_000
            deliveries.append(
                Delivery(
                    body: webhookBody("booking.cancelled", booking: "B\(booking)", code: codes.last!, status: "Cancelled", eventTime: time),
                    receivedAt: time))
        }
        return (deliveries, codes)
    }

    /// What every code resolves to, and each booking's record, under `prefix`.
    static func state(_ store: MappingStore, codes: [String], bookings: [String]) async throws -> [String] {
        var lines: [String] = []
        for code in codes {
            let record = try await store.resolve(TrackingCode(code)!)
            lines.append("\(code) -> \(record.map { "\($0.bookingID) \($0.code) \($0.status) \($0.version)" } ?? "nil")")
        }
        for booking in bookings {
            let record = try await store.record(bookingID: booking)
            lines.append("\(booking): \(record.map { "\($0.code) \($0.status) \($0.version)" } ?? "nil")")
        }
        return lines
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func shuffledAndDuplicatedDeliveriesEndInTheInOrderState(seed: UInt64) async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let inOrder = MappingStore(redis: redis, keys: MappingKeys(prefix: "ordered:"), retentionSeconds: 3600)
        let shuffled = MappingStore(redis: redis, keys: MappingKeys(prefix: "shuffled:"), retentionSeconds: 3600)

        var random = SeededRandom(seed: seed)
        var all: [Delivery] = []
        var codes: [String] = []
        let bookings = (0..<60).map { "B\($0)" }
        for booking in 0..<60 {
            let (deliveries, bookingCodes) = Self.history(booking: booking, random: &random)
            all += deliveries
            codes += bookingCodes
        }
        for delivery in all {
            _ = try await inOrder.apply(try WebhookEvent(body: delivery.body), receivedAt: delivery.receivedAt)
        }
        // Every delivery once or twice more, in a random order.
        var chaotic = all + all.filter { _ in Bool.random(using: &random) } + all.filter { _ in Int.random(in: 0..<4, using: &random) == 0 }
        chaotic.shuffle(using: &random)
        for delivery in chaotic {
            _ = try await shuffled.apply(try WebhookEvent(body: delivery.body), receivedAt: delivery.receivedAt)
        }
        let expected = try await Self.state(inOrder, codes: codes, bookings: bookings)
        let actual = try await Self.state(shuffled, codes: codes, bookings: bookings)
        #expect(actual == expected)
        // The in-order state is what the design asks: only each booking's latest code resolves.
        #expect(expected.filter { $0.contains("-> B") }.count == 60)
    }

    @Test func withoutEventTimesDuplicatesAndLateConfirmationsChangeNothing() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let store = MappingStore(redis: redis, keys: MappingKeys(), retentionSeconds: 3600)
        let confirmed = try WebhookEvent(body: webhookBody("booking.confirmed", booking: "A1", code: "codeA1"))
        let modified = try WebhookEvent(body: webhookBody("booking.modified", booking: "A1", code: "codeB2"))
        let cancelled = try WebhookEvent(body: webhookBody("booking.cancelled", booking: "A1", code: "codeB2", status: "Cancelled"))
        #expect(try await store.apply(confirmed, receivedAt: 1_000) == .applied)
        #expect(try await store.apply(confirmed, receivedAt: 1_000) == .exists)
        #expect(try await store.apply(modified, receivedAt: 2_000) == .applied)
        #expect(try await store.resolve(TrackingCode("codeA1")!) == nil)
        // A duplicate of the old confirmation, delivered late: the old code stays retired.
        #expect(try await store.apply(confirmed, receivedAt: 3_000) == .retired)
        #expect(try await store.resolve(TrackingCode("codeB2")!)?.status == "Approved")
        #expect(try await store.apply(cancelled, receivedAt: 4_000) == .applied)
        #expect(try await store.apply(cancelled, receivedAt: 4_000) == .unchanged)
        // A late duplicate of the modification does not revive a cancelled booking.
        #expect(try await store.apply(modified, receivedAt: 5_000) == .cancelled)
        let record = try #require(try await store.resolve(TrackingCode("codeB2")!))
        #expect(record.status == "Cancelled" && record.bookingID == "A1" && record.firstName == "F")
        let ttl = try await redis.send("TTL", "bxt:{m}:booking:A1").int ?? -1
        #expect(ttl > 3500 && ttl <= 3600)
    }
}
