import Foundation
import RedisClient
import TestSupport
import Testing
import TrackingCore

@Suite("Mapping updates: forged event times and codes another booking owns")
struct MappingHostileEventTests {
    let minute: Int64 = 60_000

    @Test func eventTimesAreClampedToAFewMinutesPastTheirReceipt() {
        let received: Int64 = 1_700_000_000_000
        let skew = MappingStore.maxFutureSkewMilliseconds
        #expect(MappingStore.version(eventTime: received - minute, receivedAt: received) == received - minute)
        #expect(MappingStore.version(eventTime: received + skew, receivedAt: received) == received + skew)
        #expect(MappingStore.version(eventTime: received + skew + 1, receivedAt: received) == received + skew)
        #expect(MappingStore.version(eventTime: .max, receivedAt: received) == received + skew)
        #expect(MappingStore.version(eventTime: nil, receivedAt: received) == received)
        #expect(MappingStore.version(eventTime: .max, receivedAt: .max) == .max)
    }

    @Test func aFarFutureModifiedOnDoesNotOutrankLaterGenuineEvents() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let store = MappingStore(redis: redis, keys: MappingKeys(), retentionSeconds: 3600)
        let now: Int64 = 1_700_000_000_000
        let year3000: Int64 = 32_503_680_000_000
        #expect(
            try await store.apply(
                try WebhookEvent(body: webhookBody("booking.confirmed", booking: "G1", code: "genuine1", eventTime: now)), receivedAt: now)
                == .applied)
        // A forged modification, dated in the year 3000, points the booking at another code.
        let forged = try WebhookEvent(body: webhookBody("booking.modified", booking: "G1", code: "forged1", eventTime: year3000))
        #expect(try await store.apply(forged, receivedAt: now + minute) == .applied)
        // Booxi's next genuine change, ten minutes later, still wins.
        let genuine = try WebhookEvent(body: webhookBody("booking.modified", booking: "G1", code: "genuine2", eventTime: now + 10 * minute))
        #expect(try await store.apply(genuine, receivedAt: now + 10 * minute) == .applied)
        #expect(try await store.resolve(TrackingCode("genuine2")!)?.bookingID == "G1")
        #expect(try await store.resolve(TrackingCode("forged1")!) == nil)
    }

    @Test func aCodeAnotherLiveBookingOwnsIsNotMoved() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let store = MappingStore(redis: redis, keys: MappingKeys(), retentionSeconds: 3600)
        let now: Int64 = 1_700_000_000_000
        #expect(
            try await store.apply(
                try WebhookEvent(body: webhookBody("booking.confirmed", booking: "V1", code: "victim01", eventTime: now)), receivedAt: now)
                == .applied)
        #expect(
            try await store.apply(
                try WebhookEvent(body: webhookBody("booking.confirmed", booking: "X1", code: "attack01", eventTime: now)), receivedAt: now)
                == .applied)
        // X1's modification (or a new booking's confirmation) claims V1's code: refused, nothing changes.
        let claim = try WebhookEvent(body: webhookBody("booking.modified", booking: "X1", code: "victim01", eventTime: now + minute))
        #expect(try await store.apply(claim, receivedAt: now + minute) == .codeOwnedByAnother)
        let newcomer = try WebhookEvent(body: webhookBody("booking.confirmed", booking: "N1", code: "victim01", eventTime: now + minute))
        #expect(try await store.apply(newcomer, receivedAt: now + minute) == .codeOwnedByAnother)
        #expect(try await store.resolve(TrackingCode("victim01")!)?.bookingID == "V1")
        #expect(try await store.resolve(TrackingCode("attack01")!)?.bookingID == "X1")
        #expect(try await store.record(bookingID: "N1") == nil)
        // Once V1 has moved on to another code, its old one is retired, not free for the taking.
        #expect(
            try await store.apply(
                try WebhookEvent(body: webhookBody("booking.modified", booking: "V1", code: "victim02", eventTime: now + 2 * minute)),
                receivedAt: now + 2 * minute) == .applied)
        #expect(try await store.resolve(TrackingCode("victim01")!) == nil)
    }

    @Test func recordsHoldingAFutureVersionAreRepairedOnce() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let store = MappingStore(redis: redis, keys: MappingKeys(), retentionSeconds: 3600)
        let now: Int64 = 1_700_000_000_000
        // As an earlier release stored them: one far-future version, one ordinary.
        _ = try await redis.send(
            "HSET", "bxt:{m}:booking:F1", "bookingId", "F1", "code", "future01", "status", "Approved", "version", "32503680000000")
        _ = try await redis.send(
            "HSET", "bxt:{m}:booking:F2", "bookingId", "F2", "code", "future02", "status", "Approved", "version", "\(now - minute)")
        #expect(try await store.repairFutureVersions(now: now) == 1)
        #expect(try await store.record(bookingID: "F1")?.version == now)
        #expect(try await store.record(bookingID: "F2")?.version == now - minute)
        // Once: the flag is set, a second start repairs nothing.
        _ = try await redis.send("HSET", "bxt:{m}:booking:F3", "bookingId", "F3", "version", "32503680000000")
        #expect(try await store.repairFutureVersions(now: now) == 0)
    }
}
