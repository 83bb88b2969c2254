@testable import Console
import Foundation
import RedisClient
import TestSupport
import Testing

@Suite("Console login: bcrypt users, cookies, CSRF comparison, failed-login throttling")
struct ConsoleAuthTests {
    @Test func usersVerifyWithBcryptAndUnknownNamesFail() async throws {
        // Cost 4 keeps the test light (the suite runs workers with short heartbeats beside it);
        // `hash-password` uses 12, like the decoy an unknown name is checked against.
        #expect(ConsoleUsers.decoy.hasPrefix("$2b$12$"))
        let hash = ConsoleUsers.hash("correct horse", cost: 4)
        #expect(hash.hasPrefix("$2b$04$"))
        let users = ConsoleUsers(entries: ["ops:\(hash)", "broken-entry"])
        #expect(users.hashes.keys.sorted() == ["ops"])
        #expect(try await users.verify(user: "ops", password: "correct horse"))
        #expect(try await !users.verify(user: "ops", password: "wrong"))
        #expect(try await !users.verify(user: "nobody", password: "correct horse"))
    }

    @Test func cookiesAndTokens() {
        #expect(ConsoleAuth.cookie("a=1; bxt_console=abc ; b=2") == "abc")
        #expect(ConsoleAuth.cookie("a=1") == nil)
        #expect(ConsoleAuth.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!ConsoleAuth.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(ConsoleSessions.random().count == 43 && ConsoleSessions.random() != ConsoleSessions.random())
    }

    @Test func failedLoginsAreThrottledPerUserAndPerAddress() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        let sessions = ConsoleSessions(
            redis: redis, prefix: "bxt:console:", ttl: .seconds(60), failuresPerUser: 3, failuresPerAddress: 5, window: .seconds(60))
        for _ in 0..<3 { try await sessions.recordFailure(user: "ops", address: "10.0.0.1") }
        #expect(try await sessions.throttled(user: "ops", address: "10.0.0.9") ?? 0 > 0)
        #expect(try await sessions.throttled(user: "other", address: "10.0.0.9") == nil)
        for _ in 0..<2 { try await sessions.recordFailure(user: "x\(UUID())", address: "10.0.0.1") }
        #expect(try await sessions.throttled(user: "other", address: "10.0.0.1") ?? 0 > 0)
        try await sessions.clearFailures(user: "ops")
        #expect(try await sessions.throttled(user: "ops", address: "10.0.0.9") == nil)
        let (id, session) = try await sessions.create(user: "ops")
        #expect(try await sessions.session(id) == session)
        try await sessions.end(id)
        #expect(try await sessions.session(id) == nil)
        await redis.shutdown()
    }
}
