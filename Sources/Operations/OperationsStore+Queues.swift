import Foundation
import JobQueue

extension OperationsStore {
    public struct HeldJob: Sendable, Equatable, Codable {
        public var id: String
        public var kind: String
        /// Milliseconds since the job was received.
        public var ageMs: Int64
        public var attempt: Int
    }

    public struct WorkerLane: Sendable, Equatable, Codable {
        public var id: String
        public var alive: Bool
        /// Milliseconds since its last heartbeat (nil once the heartbeat expired).
        public var heartbeatAgeMs: Int?
        public var holding: Int
        public var jobs: [HeldJob]
    }

    /// The registered lanes with their heartbeat age and the jobs they hold.
    public func workers(now: Int64 = JobEnvelope.nowMilliseconds()) async throws -> [WorkerLane] {
        var lanes: [WorkerLane] = []
        for worker in try await queue.workers() {
            let (jobs, remaining) = try await queue.inHand(laneID: worker.id)
            let ttl = Int(heartbeatTTL.components.seconds * 1000)
            lanes.append(
                WorkerLane(
                    id: worker.id, alive: worker.alive, heartbeatAgeMs: remaining.map { max(0, ttl - $0) }, holding: worker.holding,
                    jobs: jobs.map { HeldJob(id: $0.id, kind: $0.kind.rawValue, ageMs: now - $0.receivedAt, attempt: $0.attempt) }))
        }
        return lanes
    }

    public struct Retry: Sendable, Equatable, Codable {
        public var id: String
        public var kind: String
        public var attempt: Int
        public var dueAt: Int64
        public var lastError: String?
    }

    /// The delayed set, soonest first.
    public func retries(limit: Int = 500) async throws -> [Retry] {
        try await queue.delayedJobs(limit: limit).map {
            Retry(
                id: $0.envelope.id, kind: $0.envelope.kind.rawValue, attempt: $0.envelope.attempt, dueAt: $0.dueAt, lastError: $0.envelope.lastError)
        }
    }

    /// Dead letters matching `filter`, newest first, masked, with the groups of all of them.
    public func deadLetters(_ filter: DeadLetterFilter) async throws -> (groups: [DeadLetterReport.Group], items: [DeadLetterReport.Item]) {
        let all = try await queue.allDeadLetters()
        return (DeadLetterReport.groups(all), all.filter(filter.matches).map { DeadLetterReport.item($0) })
    }

    /// One dead letter with its payload as stored; operators reach it through
    /// ``OperatorActions/reveal(deadLetterID:who:)``, which audits it.
    func revealDeadLetter(id: String) async throws -> DeadLetterReport.Item? {
        try await queue.allDeadLetters().first { $0.job.id == id }.map { DeadLetterReport.item($0, revealed: true) }
    }

    /// The ids of the dead letters `ids` names, or all that match `filter` when `ids` is nil.
    func deadLetterIDs(_ ids: [String]?, filter: DeadLetterFilter) async throws -> [String] {
        if let ids { return ids }
        return try await queue.allDeadLetters().filter(filter.matches).map(\.job.id)
    }
}
