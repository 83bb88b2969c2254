import Metrics

/// Per-client state (``ClientBucket`` → value) with a hard cap on its entries, so that address
/// churn cannot grow it without bound, and its size in a gauge
/// (`booxi_tracking_client_table_entries{table}`).
///
/// A new client that finds the table full makes room: first every entry idle for `idle` goes
/// (for a throttle, a bucket that has refilled; for a log limiter, one whose minute has passed:
/// either carries nothing), then, if that is not enough, the least recently touched quarter. The
/// sort that finds that quarter runs at most once per `capacity / 4` new clients.
public struct ClientTable<Value: Sendable>: Sendable {
    public struct Entry: Sendable {
        public var value: Value
        public var touched: ContinuousClock.Instant
    }

    public let capacity: Int
    let idle: Duration
    private var entries: [ClientBucket: Entry] = [:]
    private let size: Gauge

    public init(capacity: Int, idle: Duration, table: String) {
        self.capacity = max(1, capacity)
        self.idle = idle
        size = .clientTableEntries(table)
        size.record(0)
    }

    public var count: Int { entries.count }

    public subscript(bucket: ClientBucket) -> Entry? { entries[bucket] }

    /// Stores `value` for `bucket`, touched at `now`, making room first if `bucket` is new and
    /// the table is full.
    public mutating func set(_ value: Value, for bucket: ClientBucket, now: ContinuousClock.Instant) {
        let isNew = entries[bucket] == nil
        if isNew && entries.count >= capacity { makeRoom(now: now) }
        entries[bucket] = Entry(value: value, touched: now)
        if isNew { size.record(entries.count) }
    }

    /// Forgets every entry idle for `idle` (a periodic sweep: memory falls back after churn).
    public mutating func removeIdle(now: ContinuousClock.Instant) {
        let before = entries.count
        entries = entries.filter { now - $0.value.touched < idle }
        if entries.count != before { size.record(entries.count) }
    }

    private mutating func makeRoom(now: ContinuousClock.Instant) {
        removeIdle(now: now)
        guard entries.count >= capacity else { return }
        let oldest = entries.values.map(\.touched).sorted()
        let cutoff = oldest[min(oldest.count - 1, max(1, capacity / 4) - 1)]
        entries = entries.filter { $0.value.touched > cutoff }
        size.record(entries.count)
    }
}

extension Gauge {
    /// The size of a per-client map; also for maps bounded otherwise (the open connections').
    static func clientTableEntries(_ table: String) -> Gauge {
        Gauge(label: "booxi_tracking_client_table_entries", dimensions: [("table", table)])
    }
}
