import Foundation
import JobQueue
import Logging

/// The worker's periodic duties: its heartbeat, promoting due retries, reaping dead workers'
/// jobs, and the queue-depth gauges.
struct Housekeeper: Sendable {
    let queue: JobQueue
    let registry: WorkerRegistry
    /// The queue identities of this worker's lanes, each with its heartbeat.
    let laneIDs: [String]
    let heartbeatTTL: Duration
    let reaperInterval: Duration
    let metrics: WorkerMetrics
    let logger: Logger

    func run(isStopping: @escaping @Sendable () -> Bool) async {
        let tick = Duration.milliseconds(250)
        var sinceHeartbeat = heartbeatTTL
        var sinceReap = reaperInterval
        while !isStopping() && !Task.isCancelled {
            do {
                if sinceHeartbeat >= heartbeatTTL / 3 {
                    try await registry.heartbeat(workerIDs: laneIDs, ttl: heartbeatTTL)
                    sinceHeartbeat = .zero
                }
                let promoted = try await queue.promoteDue()
                if promoted > 0 { metrics.promoted.increment(by: promoted) }
                if sinceReap >= reaperInterval {
                    sinceReap = .zero
                    if let recovered = try await registry.reap(lockTTL: reaperInterval), recovered > 0 {
                        metrics.recovered.increment(by: recovered)
                        logger.warning("recovered jobs of stopped workers", metadata: ["jobs": "\(recovered)"])
                    }
                    let depths = try await queue.depths()
                    metrics.depth("webhooks").record(depths.webhooks)
                    metrics.depth("commands").record(depths.commands)
                    metrics.depth("delayed").record(depths.delayed)
                    metrics.depth("dead").record(depths.dead)
                }
            } catch {
                logger.warning("housekeeping failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: tick)
            sinceHeartbeat += tick
            sinceReap += tick
        }
    }
}
