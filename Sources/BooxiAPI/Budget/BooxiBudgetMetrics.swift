import BooxiModels
import Metrics

/// The budget's metrics, made once: `booxi_tracking_booxi_*`.
struct BooxiBudgetMetrics: Sendable {
    private let waits: [BooxiCallClass: Metrics.Timer]
    private let calls: [BooxiCallClass: Counter]
    private let timeouts: [BooxiCallClass: Counter]
    let rateLimited = Counter(label: "booxi_tracking_booxi_rate_limited_total")
    /// Charges the store lost (a failover or restart), each starting the budget again conservatively.
    let lostCharges = Counter(label: "booxi_tracking_booxi_budget_lost_charges_total")
    private let usedSecond = Gauge(label: "booxi_tracking_booxi_budget_used", dimensions: [("window", "1s")])
    private let usedMinute = Gauge(label: "booxi_tracking_booxi_budget_used", dimensions: [("window", "60s")])

    init(policy: FairUsePolicy) {
        func each<T>(_ make: (BooxiCallClass) -> T) -> [BooxiCallClass: T] {
            Dictionary(uniqueKeysWithValues: BooxiCallClass.allCases.map { ($0, make($0)) })
        }
        waits = each { Metrics.Timer(label: "booxi_tracking_booxi_queue_wait_seconds", dimensions: [("class", $0.description)]) }
        calls = each { Counter(label: "booxi_tracking_booxi_calls_total", dimensions: [("class", $0.description)]) }
        timeouts = each { Counter(label: "booxi_tracking_booxi_budget_timeouts_total", dimensions: [("class", $0.description)]) }
        Gauge(label: "booxi_tracking_booxi_budget_limit", dimensions: [("window", "1s")]).record(policy.perSecond)
        Gauge(label: "booxi_tracking_booxi_budget_limit", dimensions: [("window", "60s")]).record(policy.perMinute)
    }

    func granted(_ grant: BooxiGrant) {
        waits[grant.callClass]?.record(duration: grant.waited)
        calls[grant.callClass]?.increment()
    }

    func expired(_ callClass: BooxiCallClass) {
        timeouts[callClass]?.increment()
    }

    /// Reported by the dispatching process (others report 0), so `max` over processes is the use.
    func reportUse(second: Int, minute: Int) {
        usedSecond.record(second)
        usedMinute.record(minute)
    }
}
