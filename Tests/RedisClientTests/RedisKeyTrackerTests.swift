import Foundation
import Logging
@testable import RedisClient
import Synchronization
import TestSupport
import Testing

/// Collects what a tracker reports and waits for a given report.
final class TrackerEvents: Sendable {
    private let events = Mutex<[RedisKeyTracker.Event]>([])

    func append(_ event: RedisKeyTracker.Event) { events.withLock { $0.append(event) } }

    var all: [RedisKeyTracker.Event] { events.withLock { $0 } }

    /// Waits until `event` was reported `count` times (generously: every suite runs at once on 2 cores).
    func wait(for event: RedisKeyTracker.Event, count: Int = 1, timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while all.filter({ $0 == event }).count < count {
            guard ContinuousClock.now < deadline else {
                Issue.record("no \(event) (×\(count)) within \(timeout); got \(all)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Every key reported as changed, in order.
    var changedKeys: [String] {
        all.flatMap { event -> [String] in
            if case .changed(let keys) = event { return keys }
            return []
        }
    }
}

@Suite("RedisKeyTracker: changes under the prefixes, flushes, lost and dead links")
struct RedisKeyTrackerTests {
    static func track(_ server: RedisServer, heartbeat: Duration = .seconds(1)) -> (TrackerEvents, Task<Void, Never>) {
        let events = TrackerEvents()
        let tracker = RedisKeyTracker(
            configuration: server.configuration(), prefixes: ["t:{m}:code:", "t:{m}:booking:"], heartbeat: heartbeat,
            logger: Logger(label: "test.tracker"))
        let task = Task { await tracker.run { events.append($0) } }
        return (events, task)
    }

    @Test func reportsChangesUnderItsPrefixesOnly() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let (events, task) = Self.track(server)
        try await events.wait(for: .started)

        try await redis.set("t:{m}:code:abc", "B1")
        try await redis.send("HSET", "t:{m}:booking:B1", "status", "Cancelled")
        try await redis.set("t:{m}:other", "x")
        try await redis.set("unrelated", "x")
        try await redis.send("DEL", "t:{m}:code:abc")
        // A marker written last: once it is reported, everything before it has been.
        try await Task.sleep(for: .milliseconds(50))
        try await redis.set("t:{m}:code:marker", "1")
        let deadline = ContinuousClock.now + .seconds(5)
        while !events.changedKeys.contains("t:{m}:code:marker"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(events.changedKeys == ["t:{m}:code:abc", "t:{m}:booking:B1", "t:{m}:code:abc", "t:{m}:code:marker"])

        // Expiry is a change too (records expire after the appointment).
        try await redis.send("PEXPIRE", "t:{m}:booking:B1", 20)
        try await Task.sleep(for: .milliseconds(300))
        _ = try await redis.get("t:{m}:booking:B1")
        let expiries = events.changedKeys.dropFirst(4)
        #expect(!expiries.isEmpty && expiries.allSatisfy { $0 == "t:{m}:booking:B1" })

        try await redis.send("FLUSHDB")
        try await events.wait(for: .flushed)
        task.cancel()
        await task.value
        #expect(events.all.last == .stopped)
    }

    @Test func aKilledConnectionIsReportedAndTrackingComesBack() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let (events, task) = Self.track(server)
        defer { task.cancel() }
        try await events.wait(for: .started)

        try await redis.send("CLIENT", "KILL", "TYPE", "pubsub")
        try await events.wait(for: .stopped)
        try await events.wait(for: .started, count: 2)
        try await redis.set("t:{m}:code:after", "B2")
        try await events.wait(for: .changed(["t:{m}:code:after"]))

        // The server gone: stopped; back: tracking again, without a restart of the tracker.
        server.kill()
        try await events.wait(for: .stopped, count: 2)
        try server.start()
        try await events.wait(for: .started, count: 3)
    }

    @Test func aLinkThatStopsAnsweringIsDeclaredDeadWithinTwoHeartbeats() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let (events, task) = Self.track(server, heartbeat: .milliseconds(200))
        defer { task.cancel() }
        try await events.wait(for: .started)

        // Quiet but alive: the heartbeats are answered, nothing is reported.
        try await Task.sleep(for: .milliseconds(700))
        #expect(events.all == [.started])

        // The server stops answering (as behind a dead link): PING goes unanswered.
        try await redis.send("CLIENT", "PAUSE", 1_500, "ALL")
        let paused = ContinuousClock.now
        try await events.wait(for: .stopped, timeout: .seconds(3))
        #expect(ContinuousClock.now - paused < .milliseconds(1_400))
        try await events.wait(for: .started, count: 2, timeout: .seconds(5))
    }

    @Test func aServerThatRefusesTrackingIsAskedAgainLaterNotInALoop() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let admin = RedisClient(configuration: server.configuration())
        defer { Task { await admin.shutdown() } }
        try await admin.send("ACL", "SETUSER", "reader", "on", ">reader-secret", "~*", "+@all", "-client")
        let logs = LogCapture()
        let events = TrackerEvents()
        let tracker = RedisKeyTracker(
            configuration: try RedisConfiguration(url: "redis://reader:reader-secret@127.0.0.1:\(server.port)/0"), prefixes: ["t:"],
            logger: logs.logger)
        let task = Task { await tracker.run { events.append($0) } }
        try await events.wait(for: .stopped)
        try await Task.sleep(for: .milliseconds(500))
        #expect(!events.all.contains(.started) && events.all.count == 1)
        #expect(logs.text.contains("Redis refused key tracking") && !logs.text.contains("reader-secret"))
        // Cancelled while it waits for the next attempt: it ends at once.
        let cancelledAt = ContinuousClock.now
        task.cancel()
        await task.value
        #expect(ContinuousClock.now - cancelledAt < .seconds(2))
    }

    @Test func pushedRepliesMapToEvents() {
        let message = { (payload: RedisReply) in
            RedisReply.array([.bulkString(Array("message".utf8)), .bulkString(Array(RedisKeyTracker.channel.utf8)), payload])
        }
        #expect(
            RedisKeyTracker.event(from: message(.array([.bulkString(Array("k1".utf8)), .bulkString(Array("k2".utf8))]))) == .changed(["k1", "k2"]))
        #expect(RedisKeyTracker.event(from: message(.null)) == .flushed)
        #expect(RedisKeyTracker.event(from: .array([.bulkString(Array("pong".utf8)), .bulkString([])])) == nil)
        #expect(RedisKeyTracker.event(from: .array([.bulkString(Array("message".utf8)), .bulkString(Array("other".utf8)), .null])) == nil)
    }
}
