import Foundation
import JobQueue
import Logging

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

    func run() async {
        let tick = Duration.milliseconds(250)
        var sinceHeartbeat = heartbeatTTL
        var sinceReap = reaperInterval
        while !Task.isCancelled {
            do {
                if sinceHeartbeat >= heartbeatTTL / 3 {
                    try await driver.heartbeat(workerIDs: laneIDs, ttl: heartbeatTTL)
                    metrics.heartbeat.record(Date().timeIntervalSince1970)
                    sinceHeartbeat = .zero
                }
                let promoted = try await driver.promoteDue(now: JobEnvelope.nowMilliseconds(), limit: 500)
                if promoted > 0 { metrics.promoted.increment(by: promoted) }
                if sinceReap >= reaperInterval {
                    sinceReap = .zero
                    if let recovered = try await driver.reap(lockTTL: reaperInterval), recovered > 0 {
                        metrics.recovered.increment(by: recovered)
                        logger.warning("recovered jobs of stopped workers", metadata: ["jobs": "\(recovered)"])
                    }
                    metrics.record(try await driver.depths())
                }
            } catch {
                if Task.isCancelled { break }
                logger.warning("housekeeping failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: tick)
            sinceHeartbeat += tick
            sinceReap += tick
        }
    }
}
