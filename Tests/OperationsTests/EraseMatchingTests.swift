import Foundation
import JobQueue
import Operations
import RedisClient
import Synchronization
import TestSupport
import Testing
import TrackingCore

@Suite("Erase over real Redis: a booking's jobs by their parsed id and code, never by substring, in every list")
struct EraseMatchingTests {
    static func webhook(_ bookingID: String, code: String) -> String {
        #"{"event":"booking.modified","timestamp":"2030-01-01T00:00:00Z","booking":{"confirmationNumber":"\#(bookingID)","status":"Approved","client":{"firstName":"Zelda","lastName":"Quill","trackingPage":{"viewURL":"https://book.booxi.com/tracking/\#(code)"}}}}"#
    }

    static func code(_ n: Int) -> String { "trk\(n)code" }

    static func envelope(_ n: Int) -> JobEnvelope {
        JobEnvelope(kind: .webhook, payload: webhook("BKE\(n)", code: code(n)))
    }

    static func letter(_ envelope: JobEnvelope) throws -> [UInt8] {
        Array(try JSONEncoder().encode(DeadLetter(job: envelope, reason: "x", attempts: 1, lastError: nil)))
    }

    @Test func eraseRemovesExactlyTheBookingsJobsEverywhere() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        let operations = OperationsStore(redis: redis, keyPrefix: "bxt:", retentionHours: 24, heartbeatTTL: .seconds(15))
        let queue = operations.queue
        let keys = queue.shards[0]
        // BKE1 is applied, so its code is known; the code alone names it in a malformed letter below.
        let fetches = BookingFetches(redis: redis, keys: MappingKeys())
        _ = try await operations.mappings.apply(
            [(try WebhookEvent(body: Self.webhook("BKE1", code: Self.code(1))), JobEnvelope.nowMilliseconds())])

        // Waiting: BKE1…BKE11 among 1,200 other bookings' webhooks, so the erase reads several windows.
        var pipeline = RedisPipeline()
        for n in 1...1_200 {
            queue.appendPush(
                JobEnvelope(kind: .webhook, payload: Self.webhook("OTHER\(n)", code: "oth\(n)code")), forBooking: "OTHER\(n)", to: &pipeline)
        }
        _ = try await redis.execute(pipeline)
        for n in 1...11 { try await queue.push(Self.envelope(n)) }
        pipeline = RedisPipeline()
        for n in 1_201...1_700 {
            queue.appendPush(
                JobEnvelope(kind: .webhook, payload: Self.webhook("OTHER\(n)", code: "oth\(n)code")), forBooking: "OTHER\(n)", to: &pipeline)
        }
        _ = try await redis.execute(pipeline)
        // A command for BKE1 and one for BKE11.
        for n in [1, 11] {
            let command = CommandJob(action: .cancel, bookingID: "BKE\(n)", code: Self.code(n))
            try await queue.push(JobEnvelope(kind: .cancel, payload: String(decoding: try JSONEncoder().encode(command), as: UTF8.self)))
        }
        // In a worker's hands, delayed, and dead: BKE1's and a neighbour's.
        try await queue.heartbeat(laneIDs: ["lane-1"], ttl: .seconds(30))
        _ = try await redis.send("LPUSH", keys.processing("lane-1"), Self.envelope(1).encoded(), Self.envelope(11).encoded())
        _ = try await redis.send("ZADD", keys.delayed, 1, Self.envelope(1).encoded(), 2, Self.envelope(10).encoded())
        _ = try await redis.send("LPUSH", keys.dead, try Self.letter(Self.envelope(1)), try Self.letter(Self.envelope(11)))
        // Dead letters too malformed to parse (cut short), holding a name: one naming BKE1 by its
        // code alone, one naming BKE11.
        let malformed = [
            #"{"job":{"kind":"webhook","payload":"{\"booking\":{\"client\":{\"lastName\":\"Quill\",\"trackingPage\":{\"viewURL\":\"https://book.booxi.com/tracking/trk1code\"}"#,
            #"{"reason":"x","job":{"attempt":1,"kind":"webhook","payload":"{\"booking\":{\"confirmationNumber\":\"BKE11\",\"client\":{\"lastName\":\"Qu"#,
        ]
        for text in malformed { _ = try await redis.send("LPUSH", keys.dead, text) }
        let before = try await Self.entries(redis, keys)
        // 1,711 waiting webhooks, 2 commands, 2 in hand, 2 delayed, 4 dead.
        #expect(before.count == 1_721)

        // `1` is no booking here: nothing goes, though `1` is in almost every job's bytes.
        let none = try await operations.actions.erase(.bookingID("1"), who: "test")
        #expect(none.jobsRemoved == 0 && none.jobsExamined == before.count)
        #expect(try await Self.entries(redis, keys) == before)

        let steps = Mutex<[OperationsStore.EraseProgress]>([])
        let erasure = try await operations.actions.erase(.bookingID("BKE1"), who: "test") { step in steps.withLock { $0.append(step) } }
        // Waiting webhook, command, in hand, delayed, dead letter, malformed letter.
        #expect(erasure.jobsRemoved == 6 && erasure.jobsExamined == before.count)
        let after = try await Self.entries(redis, keys)
        #expect(after.count == before.count - 6)
        #expect(!after.contains { Self.namesBKE1($0) }, "\(after.filter(Self.namesBKE1))")
        #expect(before.filter { !Self.namesBKE1($0) } == after)
        // Progress: every list, window by window (the webhooks in 4 windows of 500).
        let reported = steps.withLock { $0 }
        #expect(Set(reported.map(\.list)) == ["webhooks", "commands", "processing lane-1", "delayed", "dead"])
        #expect(reported.filter { $0.list == "webhooks" }.map(\.examined) == [500, 1_000, 1_500, 1_711])
        let dead = try #require(reported.last { $0.list == "dead" })
        #expect(dead.examined == 4 && dead.total == 4 && dead.removed == 2)
        await redis.shutdown()
    }

    /// Whether an entry is one of BKE1's: its id or code as a whole token (not BKE10, BKE11).
    static func namesBKE1(_ entry: String) -> Bool {
        entry.range(of: #"(BKE1|trk1code)(?![0-9A-Za-z])"#, options: .regularExpression) != nil
    }

    /// Every entry of every queue list and the delayed set, as text, in a stable order.
    static func entries(_ redis: RedisClient, _ keys: QueueKeys) async throws -> [String] {
        var all: [String] = []
        for list in [keys.webhooks, keys.commands, keys.processing("lane-1"), keys.dead] {
            all += try await redis.lrange(list, 0, -1).map { "\(list) " + String(decoding: $0, as: UTF8.self) }
        }
        all += (try await redis.send("ZRANGE", keys.delayed, 0, -1).array ?? []).compactMap(\.string).map { "delayed " + $0 }
        return all
    }
}
