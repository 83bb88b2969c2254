import Foundation
import JobQueue
import Operations
import RedisClient
import TestSupport
import Testing
import TrackingCore

@Suite("Operations over real Redis: a booking's timeline in order, erase leaves no personal byte")
struct TimelineAndEraseTests {
    static let name = "Quillfeather"

    static func body(_ event: String, code: String, time: Int64) -> String {
        #"{"event":"\#(event)","timestamp":"\#(Date(timeIntervalSince1970: Double(time) / 1000).formatted(.iso8601))","booking":{"confirmationNumber":"A00009001","status":"Approved","client":{"firstName":"Zelda","lastName":"\#(name)","email":"zelda@example.com","trackingPage":{"viewURL":"https://book.booxi.com/tracking/\#(code)"}}}}"#
    }

    @Test func timelineThenErase() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        let operations = OperationsStore(redis: redis, keyPrefix: "bxt:", retentionHours: 24, heartbeatTTL: .seconds(15))
        let commands = CommandStore(redis: redis, shards: QueueShards(), timeline: operations.timeline)

        // The worker's applies: confirmed (received 30 ms before), then modified with a new code.
        let now = JobEnvelope.nowMilliseconds()
        let t0: Int64 = now - 60_000
        _ = try await operations.mappings.apply([
            .init(
                try WebhookEvent(body: Self.body("booking.confirmed", code: "firstCode1", time: t0)), receivedAt: now - 30, eventID: "evt-1",
                jobID: "0123456789abcdef")
        ])
        _ = try await operations.mappings.apply([
            .init(
                try WebhookEvent(body: Self.body("booking.modified", code: "secondCode2", time: t0 + 1000)),
                receivedAt: JobEnvelope.nowMilliseconds(),
                eventID: "evt|2")
        ])
        // A cancel from the page: queued with its reason, one Booxi call, the result.
        let command = CommandJob(
            action: .cancel, bookingID: "A00009001", code: "secondCode2",
            cancelReason: try CancelReason(code: "unwell", note: "Zelda \(Self.name) is ill"))
        let queuedAt = JobEnvelope.nowMilliseconds()
        guard case .queued(let jobID) = try await commands.enqueue(command) else { Issue.record("not queued"); return }
        // A second click while the first runs is refused (busy), and noted at once.
        try await Task.sleep(for: .milliseconds(2))
        guard case .busy = try await commands.enqueue(command) else { Issue.record("not refused"); return }
        // The Booxi call starts after the command was queued and ends before its result is written.
        let callStarted = JobEnvelope.nowMilliseconds()
        try await Task.sleep(for: .milliseconds(5))
        try await commands.finish(
            jobID: jobID, shard: 0, command: command, requestedAt: queuedAt, status: CommandStatus(state: .succeeded),
            calls: [.init(call: "PUT /booking (cancel)", status: "200", milliseconds: 42, startedAt: callStarted)])

        let answer = try #require(try await operations.timeline(for: "secondCode2"))
        #expect(answer.bookingId == "A00009001" && answer.foundBy == "code" && answer.code == "seco…")
        // The queued command is noted with its result, at the time it was queued; the refused one at once.
        #expect(answer.entries.map(\.type) == ["webhook", "apply", "webhook", "code", "apply", "command", "command", "booxi", "result"])
        #expect(answer.entries[5].at == queuedAt && answer.entries[5].fields["job"] == String(jobID.prefix(8)))
        #expect(answer.entries[6].at > queuedAt && answer.entries[6].fields["action"] == "cancel")
        #expect(answer.entries[0].fields == ["event": "booking.confirmed", "eventId": "evt-1", "job": "01234567"])
        #expect(answer.entries[0].at == now - 30 && answer.entries[2].fields["eventId"] == "evt/2")
        #expect(answer.entries[1].fields == ["outcome": "applied", "event": "booking.confirmed", "code": "firs…"])
        #expect(answer.entries[3].fields == ["old": "firs…", "new": "seco…"])
        #expect(answer.entries[5].fields["by"] == "page" && answer.entries[5].fields["reason"] == "unwell")
        #expect(answer.entries[7].fields["status"] == "200" && answer.entries[7].fields["ms"] == "42" && answer.entries[7].fields["at"] == nil)
        #expect(answer.entries[7].at == callStarted)
        #expect(answer.entries[8].fields["state"] == "succeeded" && answer.entries[8].fields["action"] == "cancel")
        #expect(answer.entries.map(\.at) == answer.entries.map(\.at).sorted())
        #expect(try await operations.timeline(for: "A00009001")?.foundBy == "booking")

        // Personal data everywhere: a dead letter and a waiting job carrying the name.
        let queue = operations.queue
        let letter = DeadLetter(
            job: JobEnvelope(kind: .webhook, payload: Self.body("booking.modified", code: "secondCode2", time: t0)), reason: "x", attempts: 1,
            lastError: nil)
        _ = try await redis.send("LPUSH", queue.shards[0].dead, Array(try JSONEncoder().encode(letter)))
        try await queue.push(JobEnvelope(kind: .webhook, payload: Self.body("booking.modified", code: "secondCode2", time: t0 + 5)))
        #expect(try await Self.everyValue(redis).contains(Self.name))

        let erasure = try await operations.actions.erase(.code("secondCode2"), who: "test")
        #expect(erasure.jobsRemoved == 3 && erasure.jobRecordsDeleted == 1)  // the dead letter, the webhook, the queued cancel
        let remaining = try await Self.everyValue(redis)
        #expect(!remaining.contains(Self.name) && !remaining.contains("Zelda"), "\(remaining)")
        #expect(try await operations.mappings.resolve(TrackingCode("secondCode2")!) == nil)
        // A late webhook does not bring it back.
        let late = try await operations.mappings.apply(
            [(try WebhookEvent(body: Self.body("booking.modified", code: "thirdCode3", time: t0 + 9000)), now)])
        #expect(try late[0].get() == .erased)
        #expect(try await !Self.everyValue(redis).contains(Self.name))
        await redis.shutdown()
    }

    /// Every key and every byte of every value in the database, whatever the type.
    static func everyValue(_ redis: RedisClient) async throws -> String {
        var text = ""
        for key in try await redis.send("KEYS", "*").array?.compactMap(\.string) ?? [] {
            text += key + "\n"
            let type = try await redis.send("TYPE", key).string ?? ""
            let reply: RedisReply =
                switch type {
                case "string": try await redis.send("GET", key)
                case "hash": try await redis.send("HGETALL", key)
                case "list": try await redis.send("LRANGE", key, 0, -1)
                case "set": try await redis.send("SMEMBERS", key)
                case "zset": try await redis.send("ZRANGE", key, 0, -1)
                case "stream": try await redis.send("XRANGE", key, "-", "+")
                default: .null
                }
            text += flatten(reply) + "\n"
        }
        return text
    }

    static func flatten(_ reply: RedisReply) -> String {
        if let array = reply.array { return array.map(flatten).joined(separator: " ") }
        return reply.string ?? ""
    }
}

@Suite("Dead letters as operators see them: groups, filters, masking")
struct DeadLetterReportTests {
    @Test func groupsIgnoreTheDetailsThatDiffer() {
        #expect(DeadLetterReport.group(of: "unknown event 'booking.noshow'") == DeadLetterReport.group(of: "unknown event 'x.y'"))
        let letters = ["bad 'a'", "bad 'b'", "other"].map {
            DeadLetter(job: JobEnvelope(kind: .webhook, payload: "{}"), reason: $0, attempts: 1, lastError: nil, failedAt: 10)
        }
        #expect(DeadLetterReport.groups(letters).map { "\($0.reason)=\($0.count)" } == ["bad '…'=2", "other=1"])
        #expect(letters.filter(DeadLetterFilter(reason: "bad '…'").matches).count == 2)
        #expect(letters.filter(DeadLetterFilter(kind: "cancel").matches).isEmpty)
        #expect(letters.filter(DeadLetterFilter(since: 11).matches).isEmpty)
    }

    @Test func personalDataIsMasked() {
        let masked = PersonalData.mask(
            #"{"client":{"firstName":"Zoë","lastName":"O\"Brien","email":"z@example.com","phone":"+1 514"},"note":"call jane@x.org"}"#)
        #expect(!masked.contains("Zoë") && !masked.contains("Brien") && !masked.contains("example.com") && !masked.contains("+1 514"))
        #expect(!masked.contains("jane@x.org") && masked.contains(#""firstName":"•••""#))
    }
}
