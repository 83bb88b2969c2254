import Foundation
import JobQueue
import Logging
import RedisClient

/// The worker's periodic duties: its heartbeat, promoting due retries, reaping dead workers'
/// jobs, and the queue-depth gauges. Runs until its task is cancelled (after the lanes finished,
/// so no reaper takes jobs still in hand).
struct Housekeeper: Sendable {
    let driver: any JobQueueDriver
    /// The queue identities of this worker's lanes, each with its heartbeat.
    let laneIDs: [String]
    let heartbeatTTL: Duration
    let reaperInterval: Duration
    let metrics: WorkerMetrics
    let logger: Logger

    /// Normal cadence; while Redis is unreachable the shared outage policy spaces attempts instead.
    static let tick = Duration.milliseconds(250)

    func run() async {
        let outage = OutagePause("housekeeping", logger: logger)
        // Due times rather than counted ticks, so backoff during an outage does not skew them.
        var heartbeatDue = ContinuousClock.now
        var reapDue = ContinuousClock.now
        while !Task.isCancelled {
            do {
                if ContinuousClock.now >= heartbeatDue {
                    try await driver.heartbeat(laneIDs: laneIDs, ttl: heartbeatTTL)
                    metrics.heartbeat.record(Date().timeIntervalSince1970)
                    heartbeatDue = ContinuousClock.now + heartbeatTTL / 3
                }
                let promoted = try await driver.promoteDue(now: JobEnvelope.nowMilliseconds(), limit: 500)
                if promoted > 0 { metrics.promoted.increment(by: promoted) }
                if ContinuousClock.now >= reapDue {
                    reapDue = ContinuousClock.now + reaperInterval
                    if let recovered = try await driver.reap(lockTTL: reaperInterval), recovered > 0 {
                        metrics.recovered.increment(by: recovered)
                        logger.warning("recovered jobs of stopped workers", metadata: ["jobs": "\(recovered)"])
                    }
                    metrics.record(try await driver.depths())
                }
                outage.succeeded()
                try? await Task.sleep(for: Self.tick)
            } catch {
                if Task.isCancelled { break }
                await outage.failed(error)
            }
        }
    }
}
