import BooxiModels
import Foundation
import Metrics
import RedisClient
import ServiceLifecycle
import Synchronization
import TrackingCore

/// What this replica last read for each tracking code — the record, its booking decoded, the
/// start parsed — kept only while Redis reports no change to the code's key or the booking's
/// record (``RedisKeyTracker``). A lookup that hits answers without a Redis round trip; whatever a
/// worker, a webhook or another replica writes evicts the copy as soon as Redis reports it.
///
/// While tracking is down (Redis restarting, link lost) nothing is served from memory and nothing
/// is kept; every lookup reads Redis. Bounded: at `capacity` entries it starts over empty.
final class LookupCache: Sendable {
    struct Entry: Sendable {
        let record: BookingRecord
        let booking: Booking?
        let startDate: Date?
        /// Parsed once per read from Redis, not per lookup (parsing ISO-8601 costs more than the rest of a hit).
        let endDate: Date?

        init(record: BookingRecord, booking: Booking?) {
            self.record = record
            self.booking = booking
            startDate = booking?.startDate
            endDate = booking?.endDate
        }

        /// Decodes the record's copy of the booking (nil when it has none or it is unreadable).
        init(record: BookingRecord) {
            self.init(record: record, booking: record.cachedBooking)
        }
    }

    /// Taken before reading Redis: a copy read while a change was being reported may predate the
    /// change, so it is kept only if nothing was reported since the ticket was taken.
    struct Ticket {
        fileprivate let generation: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// bookingId → the code its entry is under.
        var codeOfBooking: [String: String] = [:]
        /// Counts reports; a ticket is good while it has not moved.
        var generation: UInt64 = 0
        var isTracking = false

        mutating func forget(code: String) {
            guard let entry = entries.removeValue(forKey: code) else { return }
            codeOfBooking[entry.record.bookingID] = nil
        }

        mutating func forgetAll() {
            entries.removeAll(keepingCapacity: true)
            codeOfBooking.removeAll(keepingCapacity: true)
        }
    }

    let capacity: Int
    private let keys: MappingKeys
    private let state = Mutex(State())
    private let hits = Counter(label: "booxi_tracking_api_lookup_cache_total", dimensions: [("result", "hit")])
    private let misses = Counter(label: "booxi_tracking_api_lookup_cache_total", dimensions: [("result", "miss")])
    /// 1 while Redis reports changes (entries may be served), else 0.
    private let tracking = Gauge(label: "booxi_tracking_api_lookup_cache_tracking")

    init(capacity: Int, keys: MappingKeys) {
        self.capacity = capacity
        self.keys = keys
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// The key prefixes whose changes evict entries.
    var trackedPrefixes: [String] { keys.lookupPrefixes }

    func entry(for code: TrackingCode) -> Entry? {
        guard capacity > 0 else { return nil }
        let entry = state.withLock { $0.entries[code.value] }
        (entry == nil ? misses : hits).increment()
        return entry
    }

    /// A ticket for a read about to be made, or nil when nothing read now may be kept.
    func ticket() -> Ticket? {
        guard capacity > 0 else { return nil }
        return state.withLock { $0.isTracking ? Ticket(generation: $0.generation) : nil }
    }

    /// Keeps what was read with `ticket`, unless a change was reported meanwhile.
    func store(_ entry: Entry, for code: TrackingCode, ticket: Ticket) {
        state.withLock { state in
            guard state.isTracking, state.generation == ticket.generation else { return }
            if state.entries.count >= capacity && state.entries[code.value] == nil { state.forgetAll() }
            if let previous = state.codeOfBooking[entry.record.bookingID], previous != code.value {
                state.entries[previous] = nil
            }
            state.entries[code.value] = entry
            state.codeOfBooking[entry.record.bookingID] = code.value
        }
    }

    /// Drops the entry of a code this replica just changed through a command, so the answer to
    /// the command does not depend on how soon Redis' report arrives.
    func forget(_ code: TrackingCode) {
        state.withLock { state in
            state.generation &+= 1
            state.forget(code: code.value)
        }
    }

    func handle(_ event: RedisKeyTracker.Event) {
        state.withLock { state in
            state.generation &+= 1
            switch event {
            case .started:
                state.forgetAll()
                state.isTracking = true
                tracking.record(1)
            case .stopped:
                state.forgetAll()
                state.isTracking = false
                tracking.record(0)
            case .flushed:
                state.forgetAll()
            case .changed(let changedKeys):
                for key in changedKeys {
                    if let code = keys.code(ofKey: key) {
                        state.forget(code: code)
                    } else if let bookingID = keys.bookingID(ofKey: key), let code = state.codeOfBooking[bookingID] {
                        state.forget(code: code)
                    }
                }
            }
        }
    }
}

/// Keeps a ``LookupCache`` in step with Redis for as long as the API runs.
struct LookupCacheTracking: Service {
    let cache: LookupCache
    let tracker: RedisKeyTracker

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await tracker.run { event in cache.handle(event) }
        }
    }
}
