@testable import RedisClient
import TestSupport
import Testing

@Suite("Auto-pipelining: concurrent calls share round trips, each caller gets its own replies")
struct RedisAutoPipelineTests {
    /// A round trip the test holds open until it lets go, recording what each trip carried. It
    /// answers each command with its last argument, so every caller can check it got its own reply.
    actor HeldTransport {
        private(set) var trips: [[RedisCommand]] = []
        private(set) var inFlight = 0
        private(set) var mostInFlight = 0
        private var held: [CheckedContinuation<Void, Never>] = []
        private var holding = true

        func roundTrip(_ commands: [RedisCommand]) async throws -> [RedisReply] {
            trips.append(commands)
            inFlight += 1
            mostInFlight = max(mostInFlight, inFlight)
            if holding { await withCheckedContinuation { held.append($0) } }
            inFlight -= 1
            if commands.contains(where: { $0.name == "FAIL" }) { throw RedisError.connection("test failure") }
            return commands.map { .bulkString($0.arguments.last!) }
        }

        func release() {
            holding = false
            for continuation in held { continuation.resume() }
            held = []
        }
    }

    static func until(_ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while await !condition() {
            guard ContinuousClock.now < deadline else { throw RedisError.timeout("condition not met within 5 s") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    @Test func aSecondTripStartsBesideOneInFlightOnlyWhenEnoughWaits() async throws {
        let transport = HeldTransport()
        let pipeline = RedisAutoPipeline(maxFlushers: 2, extraFlusherThreshold: 32) { try await transport.roundTrip($0) }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            func call(_ index: Int) {
                group.addTask { try await pipeline.submit([RedisCommand("ECHO", "\(index)")]) == [.bulkString(Array("\(index)".utf8))] }
            }
            do {
                // An idle client sends a lone command at once.
                call(0)
                try await Self.until { await transport.trips.count == 1 }
                // Ten more while it is in flight: below the threshold, they wait for it.
                for index in 1...10 { call(index) }
                try await Self.until { await pipeline.pendingCommands == 10 }
                #expect(await transport.trips.count == 1)
                // Thirty more: once 32 wait, a second trip takes what waits beside the first.
                for index in 11...40 { call(index) }
                try await Self.until { await transport.trips.count == 2 }
                let second = await transport.trips[1].count
                #expect(second >= 32)
                // Never more trips at once than flushers: these wait although they pass the threshold.
                for index in 41...100 { call(index) }
                try await Self.until { await pipeline.pendingCommands == 100 - second }
                #expect(await transport.trips.count == 2)
            } catch {
                await transport.release()  // or the held callers would keep the group waiting
                throw error
            }
            await transport.release()
            for try await ownReply in group { #expect(ownReply) }
        }
        #expect(await transport.trips.map(\.count).reduce(0, +) == 101)
        #expect(await transport.mostInFlight == 2)
        #expect(await pipeline.pendingCommands == 0)
    }

    @Test func aFailedTripFailsOnlyItsOwnCallers() async throws {
        let transport = HeldTransport()
        let pipeline = RedisAutoPipeline(maxFlushers: 2) { try await transport.roundTrip($0) }
        // Unstructured tasks: if a wait below fails, the held calls must not keep the test waiting.
        let failed = Task { try await pipeline.submit([RedisCommand("FAIL", "x")]) }
        try await Self.until { await transport.trips.count == 1 }
        let next = Task { try await pipeline.submit([RedisCommand("ECHO", "after")]) }
        try await Self.until { await pipeline.pendingCommands == 1 }
        await transport.release()
        await #expect(throws: RedisError.connection("test failure")) { try await failed.value }
        #expect(try await next.value == [.bulkString(Array("after".utf8))])
    }

    @Test func thousandsOfConcurrentCallsOverRealRedisEachGetTheirOwnReply() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let replies = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<5_000 { group.addTask { try await redis.send("INCR", "counter").int ?? -1 } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(replies.sorted() == Array(1...5_000))
    }
}
