import Metrics

/// The ingress' metrics, created once.
struct IngressMetrics: Sendable {
    let accepted = Counter(label: "booxi_tracking_ingress_webhooks_accepted_total")
    let duplicates = Counter(label: "booxi_tracking_ingress_webhooks_duplicate_total")
    let pushDuration = Timer(label: "booxi_tracking_ingress_push_duration_seconds")

    func rejected(_ reason: String) {
        Counter(label: "booxi_tracking_ingress_webhooks_rejected_total", dimensions: [("reason", reason)]).increment()
    }
}
