import Foundation
import JobQueue
import Operations
import RedisClient
import TestSupport
import Testing
import TrackingCore

@Suite("Operator actions over real Redis: audited before and after, one resolver for code or booking id")
struct OperatorActionsTests {
    /// One raw `bxt:audit` stream entry, oldest first.
    struct Raw: Equatable {
        var id: String
        var fields: [String: String]
    }

    static func raw(_ redis: RedisClient) async throws -> [Raw] {
        try await redis.send("XRANGE", "bxt:audit", "-", "+").streamEntries.map { id, fields in
            Raw(id: id, fields: fields.mapValues { String(decoding: $0, as: UTF8.self) })
        }
    }

    static func webhook(_ bookingID: String, code: String) -> String {
        #"{"event":"booking.confirmed","timestamp":"2030-01-01T00:00:00Z","booking":{"confirmationNumber":"\#(bookingID)","status":"Approved","client":{"firstName":"Zelda","trackingPage":{"viewURL":"https://book.booxi.com/tracking/\#(code)"}}}}"#
    }

    static func apply(_ operations: OperationsStore, _ bookingID: String, code: String) async throws {
        let fetches = BookingFetches(redis: operations.redis, keys: MappingKeys())
        _ = try await operations.mappings.apply(
            [(try WebhookEvent(body: webhook(bookingID, code: code)), JobEnvelope.nowMilliseconds())])
    }

    static func deadLetter(_ envelope: JobEnvelope) throws -> [UInt8] {
        Array(try JSONEncoder().encode(DeadLetter(job: envelope, reason: "x", attempts: 1, lastError: nil)))
    }

    static func withStore(_ body: (OperationsStore, RedisClient) async throws -> Void) async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        let operations = OperationsStore(redis: redis, keyPrefix: "bxt:", retentionHours: 24, heartbeatTTL: .seconds(15))
        let result = await Result { try await body(operations, redis) }
        await redis.shutdown()
        try result.get()
    }

    @Test func everyActionIsStartedThenCompletedWithItsWho() async throws {
        try await Self.withStore { operations, redis in
            let keys = operations.queue.shards[0]
            let letters = (1...3).map { JobEnvelope(kind: .webhook, payload: Self.webhook("DL\($0)", code: "dead\($0)code")) }
            for letter in letters { _ = try await redis.send("LPUSH", keys.dead, try Self.deadLetter(letter)) }
            let delayed = JobEnvelope(kind: .webhook, payload: Self.webhook("DY1", code: "delay1code"))
            _ = try await redis.send("ZADD", keys.delayed, Int(JobEnvelope.nowMilliseconds()) + 60_000, delayed.encoded())
            try await Self.apply(operations, "ER1", code: "erase1code")
            let actions = operations.actions

            let revealed = try await actions.reveal(deadLetterID: letters[0].id, who: "ops")
            #expect(revealed.payload.contains("Zelda"))
            let replayed = try await actions.replay(ids: [letters[0].id, "gone"], filter: DeadLetterFilter(), who: "ops")
            #expect(replayed == .init(affected: 1, selected: 2))
            let purged = try await actions.purge(ids: nil, filter: DeadLetterFilter(), who: "cli:alice")
            #expect(purged == .init(affected: 2, selected: 2))
            try await actions.retryNow(jobID: delayed.id, who: "ops")
            let erasure = try await actions.erase(.code("erase1code"), who: "cli:alice")
            #expect(erasure.bookingId == "ER1")

            let raw = try await Self.raw(redis)
            let expected: [(String, String, String)] = [
                ("reveal", "dead letter \(letters[0].id)", "ops"), ("replay", "dead letters", "ops"), ("purge", "dead letters", "cli:alice"),
                ("retry-now", "job \(delayed.id)", "ops"), ("erase", "ER1", "cli:alice"),
            ]
            try #require(raw.count == expected.count * 2)
            for (index, (action, target, who)) in expected.enumerated() {
                let (started, completed) = (raw[index * 2], raw[index * 2 + 1])
                for entry in [started, completed] {
                    #expect(entry.fields["action"] == action && entry.fields["target"] == target && entry.fields["user"] == who, "\(entry)")
                }
                #expect(started.fields["outcome"] == "started" && started.fields["started"] == nil)
                #expect(completed.fields["outcome"] == "done" && completed.fields["started"] == started.id)
            }
            #expect(raw[2].fields["detail"] == "2 selected" && raw[3].fields["detail"] == "1 of 2 selected")
            #expect(raw[9].fields["detail"] == "\(erasure.jobsRemoved) jobs")
            // The code it was asked by is a bearer secret: never in the audit.
            #expect(!raw.contains { $0.fields.values.contains { $0.contains("erase1code") } })

            // The page's view: one row per action, newest first, each completed.
            let recent = try await operations.audit.recent()
            #expect(recent.map(\.action) == ["erase", "retry-now", "purge", "replay", "reveal"])
            #expect(recent.allSatisfy { $0.outcome == .done && $0.completedAt != nil && $0.completedAt! >= $0.at })
            #expect(recent[2].user == "cli:alice" && recent[2].detail == "2 of 2 selected")
        }
    }

    @Test func aFailingActionLeavesAFailedCompletion() async throws {
        try await Self.withStore { operations, redis in
            let actions = operations.actions
            await #expect(throws: OperatorActionError.notFound("delayed job")) { try await actions.retryNow(jobID: "nope", who: "ops") }
            await #expect(throws: OperatorActionError.notFound("dead letter")) { try await actions.reveal(deadLetterID: "nope", who: "ops") }
            // A Redis error mid-action: the dead list is not a list.
            _ = try await redis.send("SET", operations.queue.shards[0].dead, "not a list")
            await #expect(throws: RedisError.self) { try await actions.replay(ids: ["x"], filter: DeadLetterFilter(), who: "cli:bob") }

            let raw = try await Self.raw(redis)
            #expect(raw.map { $0.fields["outcome"] } == ["started", "failed", "started", "failed", "started", "failed"])
            #expect(raw.map { $0.fields["action"] } == ["retry-now", "retry-now", "reveal", "reveal", "replay", "replay"])
            #expect(raw[1].fields["detail"] == "no such delayed job" && raw[1].fields["started"] == raw[0].id)
            #expect(raw[5].fields["user"] == "cli:bob" && raw[5].fields["detail"]?.isEmpty == false)
            #expect(try await operations.audit.recent().map(\.outcome) == [.failed, .failed, .failed])
        }
    }

    @Test func anUnresolvedBookingIsNeitherErasedNorAudited() async throws {
        try await Self.withStore { operations, redis in
            await #expect(throws: OperatorActionError.notFound("booking")) {
                try await operations.actions.erase(.code("noSuchCode"), who: "ops")
            }
            let audited = try await Self.raw(redis)
            #expect(audited.isEmpty)
        }
    }

    @Test func startedWithoutCompletionAndOlderEntriesReadAsTheyAre() async throws {
        try await Self.withStore { operations, redis in
            // An entry from before two-step audits (written after its action), then one whose process died mid-action.
            _ = try await redis.send(
                "XADD", "bxt:audit", "*", "user", "ops", "action", "purge", "target", "dead letters", "detail", "3 of 3 selected")
            _ = try await redis.send("XADD", "bxt:audit", "*", "user", "ops", "action", "erase", "target", "B1", "detail", "", "outcome", "started")
            let recent = try await operations.audit.recent()
            #expect(recent.map(\.outcome) == [.started, .done] && recent.map(\.completedAt) == [nil, nil])
            #expect(recent[1].detail == "3 of 3 selected")
            // The page reads `at`, `user`, `action`, `target`, `detail` and `outcome` from the JSON.
            let json = String(decoding: try JSONEncoder().encode(recent[0]), as: UTF8.self)
            #expect(json.contains(#""outcome":"started""#) && json.contains(#""at":\#(recent[0].at)"#) && json.contains(#""user":"ops""#))
            #expect(try JSONDecoder().decode(AuditLog.Entry.self, from: Data(json.utf8)) == recent[0])
        }
    }

    @Test func oneResolverForCodeOrBookingID() async throws {
        try await Self.withStore { operations, _ in
            try await Self.apply(operations, "BK100", code: "codeOf100")
            // A booking whose id is another booking's code: typed alone, it is ambiguous.
            try await Self.apply(operations, "codeOf200", code: "codeOfOther")
            try await Self.apply(operations, "BK200", code: "codeOf200")

            #expect(try await operations.resolve(.codeOrBookingID("codeOf100")) == .found(bookingID: "BK100", by: .code))
            #expect(try await operations.resolve(.codeOrBookingID(" BK100 ")) == .found(bookingID: "BK100", by: .booking))
            #expect(try await operations.resolve(.codeOrBookingID("nothing1")) == .notFound)
            #expect(try await operations.resolve(.codeOrBookingID("")) == .notFound)
            #expect(try await operations.resolve(.codeOrBookingID("codeOf200")) == .ambiguous(byCode: "BK200", byBookingID: "codeOf200"))
            // Named explicitly, it is not.
            #expect(try await operations.resolve(.code("codeOf200")) == .found(bookingID: "BK200", by: .code))
            #expect(try await operations.resolve(.bookingID("codeOf200")) == .found(bookingID: "codeOf200", by: .booking))
            // A code that is not shaped like one never reaches Redis; a booking id names itself.
            #expect(try await operations.resolve(.code("not a code!")) == .notFound)
            #expect(try await operations.resolve(.code("BK100")) == .notFound)
            #expect(try await operations.resolve(.bookingID("expired9")) == .found(bookingID: "expired9", by: .booking))

            // The timeline and erase use it.
            #expect(try await operations.timeline(for: "codeOf100")?.foundBy == "code")
            #expect(try await operations.timeline(for: "BK100")?.foundBy == "booking")
            await #expect(throws: OperatorActionError.ambiguousBooking(byCode: "BK200", byBookingID: "codeOf200")) {
                try await operations.timeline(for: "codeOf200")
            }
            #expect(try await operations.actions.erase(.code("codeOf200"), who: "ops").bookingId == "BK200")
        }
    }
}
