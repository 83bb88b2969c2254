import Synchronization

/// The per-minute series the operations console charts, and which metric feeds each. Every process
/// of every role adds to the same Redis hashes (one per minute), so the series covers the whole
/// pipeline and survives restarts; each series is fed by a swift-metrics metric the code already
/// increments, so no hot path gains a call of its own (``MinuteStatsFactory``).
public enum MinuteSeries: String, Sendable, CaseIterable, Codable {
    case accepted, duplicates, rejected
    case applied, retried, deadLettered
    case booxiCalls, booxi429
    /// Webhook push latency, counted per bucket of ``MinuteSeries/latencyBucketsMilliseconds``.
    case pushLatency

    /// The series a counter feeds, by its label and dimensions (nil: not charted).
    static func of(counter label: String, dimensions: [(String, String)]) -> MinuteSeries? {
        switch label {
        case "booxi_tracking_ingress_webhooks_accepted_total": .accepted
        case "booxi_tracking_ingress_webhooks_duplicate_total": .duplicates
        case "booxi_tracking_ingress_webhooks_rejected_total": .rejected
        case "booxi_tracking_worker_jobs_total":
            switch dimensions.first(where: { $0.0 == "outcome" })?.1 {
            case "succeeded": .applied
            case "retried": .retried
            case "dead": .deadLettered
            default: nil
            }
        case "booxi_tracking_booxi_calls_total": .booxiCalls
        case "booxi_tracking_booxi_rate_limited_total": .booxi429
        default: nil
        }
    }

    static func of(timer label: String) -> MinuteSeries? {
        label == "booxi_tracking_ingress_push_duration_seconds" ? .pushLatency : nil
    }

    /// Upper bounds of the latency buckets; a last bucket holds everything slower.
    public static let latencyBucketsMilliseconds: [Double] = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000]

    /// The Redis hash field of a counter series, or of one latency bucket.
    public var field: String { rawValue }
    public static func latencyField(bucket: Int) -> String { "pushLatency.\(bucket)" }
}

/// This process' counts since the last flush, one atomic per series and latency bucket.
public final class MinuteTally: Sendable {
    public static let shared = MinuteTally()

    /// One count (an `Atomic` cannot sit in an array by itself).
    final class Slot: Sendable {
        let value = Atomic<Int>(0)
    }

    let counters: [Slot]
    let latency: [Slot]

    init() {
        counters = MinuteSeries.allCases.map { _ in Slot() }
        latency = (0...MinuteSeries.latencyBucketsMilliseconds.count).map { _ in Slot() }
    }

    /// The count a series' counters add to.
    func slot(_ series: MinuteSeries) -> Slot {
        counters[MinuteSeries.allCases.firstIndex(of: series)!]
    }

    func addLatency(nanoseconds: Int64) {
        let milliseconds = Double(nanoseconds) / 1_000_000
        let bucket = MinuteSeries.latencyBucketsMilliseconds.firstIndex { milliseconds <= $0 } ?? MinuteSeries.latencyBucketsMilliseconds.count
        latency[bucket].value.add(1, ordering: .relaxed)
    }

    /// The counts since the last call, as hash fields (zero counts left out), and resets them.
    func drain() -> [(field: String, count: Int)] {
        var fields: [(String, Int)] = []
        for (series, counter) in zip(MinuteSeries.allCases, counters) {
            let count = counter.value.exchange(0, ordering: .relaxed)
            if count != 0 { fields.append((series.field, count)) }
        }
        for (bucket, counter) in latency.enumerated() {
            let count = counter.value.exchange(0, ordering: .relaxed)
            if count != 0 { fields.append((MinuteSeries.latencyField(bucket: bucket), count)) }
        }
        return fields
    }
}
