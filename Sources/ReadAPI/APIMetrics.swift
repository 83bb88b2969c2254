import Metrics

/// The read API's metrics, named `booxi_tracking_api_*`.
struct APIMetrics: Sendable {
    let lookupDuration = Metrics.Timer(label: "booxi_tracking_api_lookup_duration_seconds")
    let throttled = Counter(label: "booxi_tracking_api_throttled_total")

    func command(_ action: String, _ outcome: String) {
        Counter(label: "booxi_tracking_api_commands_total", dimensions: [("action", action), ("outcome", outcome)]).increment()
    }
}
