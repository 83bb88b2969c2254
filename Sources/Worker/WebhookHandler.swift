import Foundation
import JobQueue
import Logging
import TrackingCore

/// Applies webhook events to the mappings: every event of a batch parsed, the valid ones applied
/// in one pipelined round trip (one Lua script each), the rest dead-lettered with their reason.
public struct WebhookHandler: JobHandler {
    public let name = "webhook"
    let mappings: MappingStore
    let logger: Logger

    public init(mappings: MappingStore, logger: Logger) {
        self.mappings = mappings
        self.logger = logger
    }

    public func handle(_ jobs: [FetchedJob]) async throws -> [JobOutcome] {
        var outcomes = [JobOutcome](repeating: .succeeded, count: jobs.count)
        var applied: [(index: Int, delivery: MappingStore.Delivery)] = []
        for (index, job) in jobs.enumerated() {
            guard let envelope = job.envelope else {
                outcomes[index] = .failed(reason: "not a job envelope")
                continue
            }
            do {
                let event = try WebhookEvent(body: envelope.payload)
                applied.append((index, .init(event, receivedAt: envelope.receivedAt, eventID: envelope.eventId, jobID: envelope.id)))
            } catch {
                outcomes[index] = .failed(reason: error.description)
                logger.notice("webhook dead-lettered", metadata: ["jobId": "\(envelope.id)", "reason": "\(error)"])
            }
        }
        // One round trip for the batch; an apply that asks for a prefetch wakes the fetchers itself.
        let results = try await mappings.apply(applied.map(\.delivery))
        for ((index, delivery), result) in zip(applied, results) {
            let event = delivery.event
            switch result {
            case .failure(let error):
                // E.g. OOM under noeviction: retried with backoff, dead-lettered after the last attempt.
                outcomes[index] = .retry(error: "mapping update failed: \(error)", retryAfter: nil)
            case .success(.codeClaimUnderWay):
                outcomes[index] = .retry(
                    error: "the tracking code's key names another booking whose change of code may be under way", retryAfter: .seconds(1))
            case .success(.codeOwnedByAnother):
                outcomes[index] = .failed(reason: "tracking code belongs to another live booking; the code was not moved")
                logger.warning(
                    "webhook dead-lettered: its tracking code belongs to another live booking",
                    metadata: ["code": "\(event.trackingCode.logID)", "event": "\(event.eventType.rawValue)"])
            case .success(let applied):
                logger.debug(
                    "webhook applied",
                    metadata: ["code": "\(event.trackingCode.logID)", "event": "\(event.eventType.rawValue)", "result": "\(applied.rawValue)"])
            }
        }
        return outcomes
    }
}
