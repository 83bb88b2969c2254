import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

/// Which driver a contract test runs against.
enum QueueBackend: String, CaseIterable, CustomTestStringConvertible {
    case redis, memory
    var testDescription: String { rawValue }
}

/// A driver with what a contract test needs beyond the protocols: pushing, as a producer would.
struct DriverFixture {
    let driver: any JobQueueDriver & QueueOperationsDriver
    let push: @Sendable (JobEnvelope) async throws -> Void
    let pushRaw: @Sendable ([UInt8], QueueName) async throws -> Void
    let finish: @Sendable () async -> Void

    static func make(_ backend: QueueBackend) throws -> DriverFixture {
        switch backend {
        case .memory:
            let queue = MemoryJobQueue()
            return DriverFixture(driver: queue, push: { queue.push($0) }, pushRaw: { queue.push(raw: $0, to: $1) }, finish: {})
        case .redis:
            let server = try RedisServer()
            let redis = RedisClient(configuration: server.configuration(poolSize: 2))
            let queue = JobQueue(redis: redis)
            return DriverFixture(
                driver: queue, push: { try await queue.push($0) },
                pushRaw: { try await redis.send("LPUSH", queue.shards[0].waitingList($1), $0) },
                finish: {
                    await redis.shutdown()
                    server.stop()
                })
        }
    }

    /// Pushes a new job of each kind, in order; returns them.
    func pushNew(_ kinds: JobKind...) async throws -> [JobEnvelope] {
        let jobs = kinds.map { JobEnvelope(kind: $0, payload: "{}") }
        for job in jobs { try await push(job) }
        return jobs
    }

    func deadLetters() async throws -> [DeadLetter] { try await driver.deadLetters(limit: 50) }

    /// Takes everything waiting on `queue` into `laneID`'s hands, oldest first.
    func fetchAll(_ queue: QueueName, laneID: String = "w1") async throws -> [FetchedJob] {
        try await driver.fetch(from: queue, laneID: laneID, maxBatch: 100, blockTimeout: .milliseconds(50))
    }
}
