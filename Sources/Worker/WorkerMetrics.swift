import JobQueue
import Metrics

/// The worker's metrics, named `booxi_tracking_worker_*`, created once per worker (the lanes and
/// the housekeeper share them; nothing is looked up per job).
struct WorkerMetrics: Sendable {
    /// The job counters and batch timer of one handler kind.
    struct Outcomes: Sendable {
        let succeeded: Counter
        let retried: Counter
        let dead: Counter
        let batchDuration: Metrics.Timer

        init(kind: String) {
            func counter(_ outcome: String) -> Counter {
                Counter(label: "booxi_tracking_worker_jobs_total", dimensions: [("kind", kind), ("outcome", outcome)])
            }
            succeeded = counter("succeeded")
            retried = counter("retried")
            dead = counter("dead")
            batchDuration = Metrics.Timer(label: "booxi_tracking_worker_batch_duration_seconds", dimensions: [("kind", kind)])
        }
    }

    private let outcomesByKind: [String: Outcomes]
    let recovered = Counter(label: "booxi_tracking_worker_recovered_jobs_total")
    let promoted = Counter(label: "booxi_tracking_worker_promoted_jobs_total")
    /// When this worker last renewed its lanes' heartbeats (seconds since 1970): an alert fires
    /// when no worker has for a minute.
    let heartbeat = Gauge(label: "booxi_tracking_worker_heartbeat_timestamp_seconds")
    private let depthGauges = ["webhooks", "commands", "delayed", "dead"].map {
        Gauge(label: "booxi_tracking_queue_depth", dimensions: [("queue", $0)])
    }

    init(kinds: [String]) {
        outcomesByKind = Dictionary(kinds.map { ($0, Outcomes(kind: $0)) }, uniquingKeysWith: { first, _ in first })
    }

    func outcomes(_ kind: String) -> Outcomes { outcomesByKind[kind] ?? Outcomes(kind: kind) }

    func record(_ depths: QueueDepths) {
        for (gauge, depth) in zip(depthGauges, [depths.webhooks, depths.commands, depths.delayed, depths.dead]) { gauge.record(depth) }
    }
}
