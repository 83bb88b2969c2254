import CoreMetrics
import Synchronization

/// A swift-metrics factory, multiplexed beside Prometheus', that feeds the per-minute series
/// (``MinuteSeries``) from the metrics the roles already record: every other metric it is asked
/// for is a no-op handler.
public struct MinuteStatsFactory: MetricsFactory {
    let tally: MinuteTally

    public init(tally: MinuteTally = .shared) {
        self.tally = tally
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let series = MinuteSeries.of(counter: label, dimensions: dimensions) else { return NOOPMetricsHandler.instance }
        return SeriesCounter(slot: tally.slot(series))
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        NOOPMetricsHandler.instance
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { NOOPMetricsHandler.instance }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { NOOPMetricsHandler.instance }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard MinuteSeries.of(timer: label) != nil else { return NOOPMetricsHandler.instance }
        return LatencyTimer(tally: tally)
    }

    public func destroyCounter(_ handler: any CounterHandler) {}
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    public func destroyMeter(_ handler: any MeterHandler) {}
    public func destroyTimer(_ handler: any TimerHandler) {}

    final class SeriesCounter: CounterHandler, Sendable {
        let slot: MinuteTally.Slot
        init(slot: MinuteTally.Slot) { self.slot = slot }
        func increment(by amount: Int64) { slot.value.add(Int(amount), ordering: .relaxed) }
        func reset() {}
    }

    final class LatencyTimer: TimerHandler, Sendable {
        let tally: MinuteTally
        init(tally: MinuteTally) { self.tally = tally }
        func recordNanoseconds(_ duration: Int64) { tally.addLatency(nanoseconds: duration) }
    }
}
