import Foundation
import Metrics
import PipelineStats
import Prometheus
import Synchronization

/// Process-wide metrics set-up: swift-metrics backed by one Prometheus registry, bootstrapped once
/// (`MetricsSystem.bootstrap` may only run once per process; tests build several apps in one).
public enum Observability {
    public static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Mutex(false)

    /// Bootstraps swift-metrics and records `booxi_tracking_build_info{version,role}`.
    public static func bootstrap(role: String) {
        bootstrapMetrics()
        registry.makeGauge(name: "booxi_tracking_build_info", labels: [("version", BuildInfo.version), ("role", role)]).set(Int64(1))
    }

    /// Installs the Prometheus factory, once per process. A swift-metrics metric is bound to the
    /// factory of the moment it is made, so this must run before anything makes one (the
    /// `RedisClient`'s pipeline-size recorder, for example), or that metric reports nowhere.
    public static func bootstrapMetrics() {
        let first = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        if first {
            var factory = PrometheusMetricsFactory(registry: registry)
            // Webhook pushes and lookups take well under 5 ms: the default buckets start too high.
            factory.defaultDurationHistogramBuckets = [
                .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500), .milliseconds(5),
                .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                .milliseconds(500), .seconds(1), .microseconds(2_500_000), .seconds(5), .seconds(10),
            ]
            // Beside Prometheus, the per-minute series the console charts, fed by the same metrics.
            MetricsSystem.bootstrap(MultiplexMetricsHandler(factories: [factory, MinuteStatsFactory()]))
        }
    }
}

public enum BuildInfo {
    public static let version = "0.1.0"
}
