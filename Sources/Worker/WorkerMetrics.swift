import Metrics

/// The worker's metrics, named `booxi_tracking_worker_*`.
struct WorkerMetrics: Sendable {
    func outcome(kind: String, _ outcome: String) {
        Counter(label: "booxi_tracking_worker_jobs_total", dimensions: [("kind", kind), ("outcome", outcome)]).increment()
    }

    func processing(kind: String) -> Metrics.Timer {
        Metrics.Timer(label: "booxi_tracking_worker_batch_duration_seconds", dimensions: [("kind", kind)])
    }

    let recovered = Counter(label: "booxi_tracking_worker_recovered_jobs_total")
    let promoted = Counter(label: "booxi_tracking_worker_promoted_jobs_total")

    func depth(_ queue: String) -> Gauge {
        Gauge(label: "booxi_tracking_queue_depth", dimensions: [("queue", queue)])
    }
}
