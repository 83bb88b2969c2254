import Foundation
import RedisClient
import TestSupport
import Testing

@Suite("RedisClient connections, pool, blocking commands and failures")
struct RedisConnectionTests {
    @Test func blockingPopReturnsPushedValueOrNilAfterItsTimeout() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }

        let started = ContinuousClock.now
        #expect(try await redis.blpop("queue", timeout: .milliseconds(200)) == nil)
        #expect(ContinuousClock.now - started >= .milliseconds(150))

        async let popped = redis.blpop("queue", timeout: .seconds(5))
        try await Task.sleep(for: .milliseconds(100))
        // The shared pool still serves while a blocking call waits.
        try await redis.lpush("queue", ["job-1"])
        #expect(try await popped == Array("job-1".utf8))

        try await redis.lpush("source", ["a"])
        #expect(try await redis.blmove(from: "source", to: "dest", timeout: .seconds(1)) == Array("a".utf8))
        #expect(try await redis.lrange("dest", 0, -1) == [Array("a".utf8)])
    }

    @Test func exhaustedPoolTimesOutThenRecovers() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        var configuration = server.configuration()
        configuration.blockingPoolSize = 1
        configuration.poolWaitTimeout = .milliseconds(200)
        let redis = RedisClient(configuration: configuration)
        defer { Task { await redis.shutdown() } }

        async let holder = redis.blpop("q", timeout: .seconds(3))
        try await Task.sleep(for: .milliseconds(100))
        await #expect(throws: RedisError.self) {
            _ = try await redis.blpop("other", timeout: .seconds(1))
        }
        try await redis.lpush("q", ["x"])
        #expect(try await holder == Array("x".utf8))
        try await redis.lpush("other", ["y"])
        #expect(try await redis.blpop("other", timeout: .seconds(1)) == Array("y".utf8))
    }

    @Test func serverKilledAndRestartedMidUse() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        try await redis.set("before", "1")

        // An in-flight blocking call fails with a typed error when the server dies, it does not hang.
        let blocked = Task { try await redis.blpop("never", timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(100))
        let killedAt = ContinuousClock.now
        server.kill()
        await #expect(throws: RedisError.self) { _ = try await blocked.value }
        #expect(ContinuousClock.now - killedAt < .seconds(5))

        // While down: typed connection errors, quickly.
        for _ in 0..<3 {
            do {
                try await redis.set("during", "1")
                Issue.record("a command succeeded while the server was down")
            } catch let error as RedisError {
                guard case .connection = error else { Issue.record("unexpected \(error)"); continue }
            }
        }

        try server.start()
        let recovered = try await eventually(timeout: .seconds(5)) { try await redis.send("PING") == .status("PONG") }
        #expect(recovered)
        try await redis.set("after", "2")
        #expect(try await redis.get("after") == Array("2".utf8))
        #expect(try await redis.blpop("never", timeout: .milliseconds(50)) == nil)
    }

    @Test func cancellingABlockingCallInterruptsIt() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let blocked = Task { try await redis.blpop("never", timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(100))
        let cancelledAt = ContinuousClock.now
        blocked.cancel()
        _ = try? await blocked.value
        #expect(ContinuousClock.now - cancelledAt < .seconds(2))
        #expect(try await redis.blpop("never", timeout: .milliseconds(10)) == nil)
    }

    @Test func authFailureSaysSoWithoutThePassword() async throws {
        let server = try RedisServer(extraArguments: ["--requirepass", "right-password"])
        defer { server.stop() }

        var wrong = server.configuration()
        wrong.password = "wrong-password"
        let refused = RedisClient(configuration: wrong)
        defer { Task { await refused.shutdown() } }
        do {
            try await refused.send("PING")
            Issue.record("PING with a wrong password succeeded")
        } catch let error as RedisError {
            guard case .server(let message) = error else { Issue.record("unexpected \(error)"); return }
            #expect(message.hasPrefix("AUTH failed"))
            #expect(!String(describing: error).contains("wrong-password"))
        }

        let admin = RedisClient(configuration: try RedisConfiguration(url: "redis://right-password@127.0.0.1:\(server.port)/0"))
        defer { Task { await admin.shutdown() } }
        try await admin.send("ACL", "SETUSER", "app", "on", ">app-secret", "~*", "+@all")
        let aclUser = RedisClient(configuration: try RedisConfiguration(url: "redis://app:app-secret@127.0.0.1:\(server.port)/3"))
        defer { Task { await aclUser.shutdown() } }
        #expect(try await aclUser.send("ACL", "WHOAMI").string == "app")
        try await aclUser.set("in-db-3", "x")
        #expect(try await admin.send("EXISTS", "in-db-3") == .integer(0))  // admin uses db 0
    }

    @Test func connectsOverAUnixSocket() async throws {
        let socketPath = FileManager.default.temporaryDirectory.appendingPathComponent("bxt-\(UUID().uuidString.prefix(8)).sock").path
        let server = try RedisServer(extraArguments: ["--unixsocket", socketPath, "--unixsocketperm", "700"])
        defer { server.stop() }
        let redis = RedisClient(configuration: try RedisConfiguration(url: "unix://\(socketPath)?db=2"))
        defer { Task { await redis.shutdown() } }
        try await redis.set("via-socket", "yes")
        #expect(try await redis.get("via-socket") == Array("yes".utf8))
    }
}

/// Polls `condition` until it is true or `timeout` passes; errors count as "not yet".
func eventually(timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return false
}
