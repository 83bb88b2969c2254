import Foundation
import JobQueue
import Logging
import RedisClient
import TrackingCore

/// Applies webhook events to the mappings: every event of a batch parsed, the valid ones applied
/// in one pipelined round trip (one Lua script each), the rest dead-lettered with their reason.
public struct WebhookHandler: JobHandler {
    public let kind = "webhook"
    let mappings: MappingStore
    let fetches: BookingFetches
    let logger: Logger

    public init(mappings: MappingStore, fetches: BookingFetches, logger: Logger) {
        self.mappings = mappings
        self.fetches = fetches
        self.logger = logger
    }

    public func handle(_ jobs: [FetchedJob]) async throws -> [JobOutcome] {
        var outcomes = [JobOutcome](repeating: .succeeded, count: jobs.count)
        var pipeline = RedisPipeline()
        var applied: [(index: Int, event: WebhookEvent)] = []
        for (index, job) in jobs.enumerated() {
            guard let envelope = job.envelope else {
                outcomes[index] = .failed(reason: "not a job envelope")
                continue
            }
            do {
                let event = try WebhookEvent(body: envelope.payload)
                mappings.appendApply(event, receivedAt: envelope.receivedAt, to: &pipeline)
                applied.append((index, event))
            } catch {
                outcomes[index] = .failed(reason: error.description)
                logger.notice("webhook dead-lettered", metadata: ["jobId": "\(envelope.id)", "reason": "\(error)"])
            }
        }
        // One wake-up for the booking fetchers per batch, for the prefetches the applies asked for.
        if !applied.isEmpty { fetches.appendRing(to: &pipeline) }
        let replies = try await mappings.redis.execute(pipeline)
        for ((index, event), reply) in zip(applied, replies) {
            if let message = reply.errorMessage {
                // E.g. OOM under noeviction: retried with backoff, dead-lettered after the last attempt.
                outcomes[index] = .retry(error: "mapping update failed: \(message)", retryAfter: nil)
                continue
            }
            logger.debug(
                "webhook applied",
                metadata: ["code": "\(event.trackingCode.logID)", "event": "\(event.kind.rawValue)", "result": "\(reply.string ?? "")"])
        }
        return outcomes
    }
}
