@testable import Console
import Foundation
import RedisClient
import Synchronization
import TestSupport
import Testing

@Suite("Console login: bcrypt users, cookies, CSRF comparison, atomic throttling, idle sessions")
struct ConsoleAuthTests {
    @Test func usersVerifyWithBcryptAndUnknownNamesFail() async throws {
        // Cost 4 keeps the test light (the suite runs workers with short heartbeats beside it);
        // `hash-password` uses 12, like the decoy an unknown name is checked against.
        #expect(ConsoleUsers.decoy.hasPrefix("$2b$12$"))
        let hash = ConsoleUsers.hash("correct horse", cost: 4)
        #expect(hash.hasPrefix("$2b$04$"))
        let users = ConsoleUsers(entries: [Secret("ops:\(hash)"), "broken-entry"])
        #expect(users.hashes.keys.sorted() == ["ops"])
        #expect(try await users.verify(user: "ops", password: "correct horse"))
        #expect(try await !users.verify(user: "ops", password: "wrong"))
        #expect(try await !users.verify(user: "nobody", password: "correct horse"))
    }

    @Test func cookiesAndTokens() {
        #expect(ConsoleAuth.cookie("a=1; bxt_console=abc ; b=2") == "abc")
        #expect(ConsoleAuth.cookie("a=1") == nil)
        #expect(ConsoleSessions.random().count == 43 && ConsoleSessions.random() != ConsoleSessions.random())
    }

    static func throttle(_ redis: RedisClient, pair: Int = 3, address: Int = 5, user: Int = 8) -> LoginThrottle {
        LoginThrottle(
            redis: redis, prefix: "bxt:console:{login}:", perUserAndAddress: pair, perAddress: address, perUser: user, window: .seconds(60))
    }

    @Test func attemptsAreCountedPerUserAtAddressPerAddressAndPerUser() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        let throttle = Self.throttle(redis)
        for _ in 0..<3 { #expect(try await throttle.reserve(user: "ops", address: "10.0.0.1") == .granted) }
        // The pair is spent; the same user elsewhere and another user here are not.
        guard case .throttled(let wait) = try await throttle.reserve(user: "ops", address: "10.0.0.1") else {
            Issue.record("not throttled")
            return
        }
        #expect((1...60).contains(wait))
        #expect(try await throttle.reserve(user: "ops", address: "10.0.0.9") == .granted)
        #expect(try await throttle.reserve(user: "other", address: "10.0.0.1") == .granted)
        // The address has had 4 of its 5: one more name, then every name is refused there.
        #expect(try await throttle.reserve(user: "x\(UUID())", address: "10.0.0.1") == .granted)
        #expect(try await throttle.reserve(user: "y\(UUID())", address: "10.0.0.1") != .granted)
        // A right password clears the pair and gives the attempt back to the address and the user.
        try await throttle.succeeded(user: "ops", address: "10.0.0.9")
        #expect(try await redis.send("GET", "bxt:console:{login}:user:ops").int == 3)
        #expect(try await redis.send("EXISTS", "bxt:console:{login}:pair:3:ops@10.0.0.9").int == 0)
        await redis.shutdown()
    }

    /// The counting stand-in for bcrypt: how many checks ran.
    final class CheckCounter: Sendable {
        let count = Mutex(0)
        func check(_ password: String, _ hash: String) -> Bool {
            count.withLock { $0 += 1 }
            Thread.sleep(forTimeInterval: 0.02)  // a check takes time, so the logins overlap
            return password == "right" && hash == "hash-of-right"
        }
    }

    static func login(_ redis: RedisClient, counter: CheckCounter, pair: Int = 5, address: Int = 20, user: Int = 100) -> ConsoleLogin {
        ConsoleLogin(
            throttle: Self.throttle(redis, pair: pair, address: address, user: user),
            users: ConsoleUsers(entries: ["ops:hash-of-right"], checker: counter.check),
            sessions: ConsoleSessions(redis: redis, prefix: "bxt:console:", ttl: .seconds(600), idle: .seconds(60)))
    }

    enum Outcome: Equatable { case session, unauthorized, throttled, other }

    static func attempt(_ login: ConsoleLogin, user: String = "ops", password: String, address: String) async -> Outcome {
        do {
            _ = try await login.logIn(user: user, password: password, address: address)
            return .session
        } catch ConsoleError.invalidCredentials {
            return .unauthorized
        } catch ConsoleError.loginThrottled {
            return .throttled
        } catch {
            return .other
        }
    }

    @Test func concurrentWrongPasswordsRunAtMostTheLimitsChecks() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration(poolSize: 8))
        let counter = CheckCounter()
        let login = Self.login(redis, counter: counter)
        let outcomes = await withTaskGroup(of: Outcome.self) { group in
            for _ in 0..<30 { group.addTask { await Self.attempt(login, password: "wrong", address: "203.0.113.7") } }
            return await group.reduce(into: [Outcome]()) { $0.append($1) }
        }
        #expect((1...5).contains(counter.count.withLock { $0 }))
        #expect(outcomes.filter { $0 == .unauthorized }.count == counter.count.withLock { $0 })
        #expect(outcomes.filter { $0 == .throttled }.count == 30 - counter.count.withLock { $0 })
        // Even the right password is not checked from there until the window ends.
        #expect(await Self.attempt(login, password: "right", address: "203.0.113.7") == .throttled)
        #expect(counter.count.withLock { $0 } <= 5)
        await redis.shutdown()
    }

    @Test func aStrangerCannotLockAUserOutByName() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        let counter = CheckCounter()
        let login = Self.login(redis, counter: counter)
        // A stranger guesses until refused, from one address and then from a second one.
        for address in ["198.51.100.1", "198.51.100.2"] {
            for _ in 0..<5 { #expect(await Self.attempt(login, password: "guess", address: address) == .unauthorized) }
            #expect(await Self.attempt(login, password: "guess", address: address) == .throttled)
        }
        // The operator, from their own address, still logs in.
        #expect(await Self.attempt(login, password: "right", address: "192.0.2.10") == .session)
        await redis.shutdown()
    }

    @Test func guessesSpreadOverManyAddressesMeetThePerUserLimit() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        let login = Self.login(redis, counter: CheckCounter(), pair: 2, address: 20, user: 6)
        for n in 0..<3 {
            for _ in 0..<2 { #expect(await Self.attempt(login, password: "guess", address: "198.51.100.\(n)") == .unauthorized) }
        }
        #expect(await Self.attempt(login, password: "right", address: "192.0.2.10") == .throttled)
        #expect(await Self.attempt(login, user: "someone-else", password: "guess", address: "192.0.2.10") == .unauthorized)
        await redis.shutdown()
    }

    @Test func sessionsEndWhenIdleAndAtTheirAbsoluteEnd() async throws {
        // Checked through the key's expiry and the stored deadline rather than by sleeping through
        // them: on a loaded machine a 500 ms sleep can last seconds.
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        let sessions = ConsoleSessions(redis: redis, prefix: "bxt:console:", ttl: .seconds(600), idle: .seconds(60))
        let (busy, session) = try await sessions.create(user: "ops")
        let key = "bxt:console:session:" + busy
        func expiry() async throws -> Int { try await redis.send("PTTL", key).int ?? -2 }
        let fresh = try await expiry()
        #expect(fresh > 50_000 && fresh <= 60_000, "a new session lives its idle time")
        // A request restarts the idle time; the overview's automatic refresh reads without touching.
        _ = try await redis.send("PEXPIRE", key, 5_000)
        #expect(try await sessions.session(busy, touch: false) == session)
        #expect(try await expiry() <= 5_000)
        #expect(try await sessions.session(busy) == session)
        #expect(try await expiry() > 50_000)
        // Idle past its time, it is gone (Redis expires the key).
        let quick = ConsoleSessions(redis: redis, prefix: "bxt:console:", ttl: .seconds(600), idle: .milliseconds(200))
        let (idle, _) = try await quick.create(user: "ops")
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await quick.session(idle) == nil)
        // However busy, a session ends at its absolute end: never kept past it, and once past it,
        // refused and deleted.
        let short = ConsoleSessions(redis: redis, prefix: "bxt:console:", ttl: .seconds(30), idle: .seconds(60))
        let (id, created) = try await short.create(user: "ops")
        let kept = try await redis.send("PTTL", "bxt:console:session:" + id).int ?? 0
        #expect(kept > 0 && kept <= 30_000)
        var ended = created
        ended.expiresAt = Int64(Date().timeIntervalSince1970 * 1000) - 1
        _ = try await redis.send("SET", "bxt:console:session:" + id, Array(try JSONEncoder().encode(ended)), "KEEPTTL")
        #expect(try await short.session(id) == nil)
        #expect(try await redis.send("EXISTS", "bxt:console:session:" + id).int == 0)
        // Logging out ends it at once.
        let (gone, _) = try await sessions.create(user: "ops")
        try await sessions.end(gone)
        #expect(try await sessions.session(gone) == nil)
        await redis.shutdown()
    }
}
