import BooxiModels

/// The mapping keys (docs/architecture.md §3), in one of two layouts (``Layout``). One key per code
/// and per booking, rather than fields of two big hashes, because each record expires on its own
/// (Redis 7.0 has no per-field TTL).
public struct MappingKeys: Sendable {
    /// Where the keys' hash tags put them.
    public enum Layout: Sendable, Equatable {
        /// Every mapping key shares the `{m}` tag: on one primary (or Sentinel's), where one script
        /// changes a booking and its codes at once. The names deployments have always had.
        case oneSlot
        /// On Redis Cluster: a booking's keys are tagged with its id (`booking:{B1}`,
        /// `retired:{B1}`), a code key with its code (`code:{C}`), so the bookings spread over
        /// every shard; a change of code takes more than one step (``MappingStore``,
        /// docs/scaling.md#keys-on-a-cluster). The fetch queues keep one slot.
        case perBooking
    }

    public let prefix: String
    public let layout: Layout

    public init(prefix: String = "bxt:", layout: Layout = .oneSlot) {
        self.prefix = prefix
        self.layout = layout
    }

    /// The layout for a client: ``Layout/perBooking`` on a Cluster, else ``Layout/oneSlot``.
    public init(prefix: String = "bxt:", cluster: Bool) {
        self.init(prefix: prefix, layout: cluster ? .perBooking : .oneSlot)
    }

    /// Whether a booking's keys and its code keys share a slot (one script may touch both).
    public var codesShareTheRecordsSlot: Bool { layout == .oneSlot }

    /// `<family>:<id>` in one slot, `<family>:{<id>}` spread.
    private func key(_ family: String, _ id: String) -> String {
        switch layout {
        case .oneSlot: prefix + "{m}:" + family + ":" + id
        case .perBooking: prefix + family + ":{" + id + "}"
        }
    }

    /// What comes before the id in a family's keys.
    private func head(_ family: String) -> String {
        switch layout {
        case .oneSlot: prefix + "{m}:" + family + ":"
        case .perBooking: prefix + family + ":{"
        }
    }

    /// The id a family's key names, or nil for another family's key.
    private func id(_ family: String, of key: String) -> String? {
        let head = head(family)
        guard key.hasPrefix(head) else { return nil }
        let rest = key.dropFirst(head.count)
        switch layout {
        case .oneSlot: return String(rest)
        case .perBooking: return rest.hasSuffix("}") ? String(rest.dropLast()) : nil
        }
    }

    /// `code:<code>` → bookingId.
    public func code(_ code: TrackingCode) -> String { key("code", code.value) }
    /// `booking:<bookingId>` → hash: code, status, version, event, names, cached booking, the
    /// timeline (``BookingTimeline``); after an erase only `erased` (so no event brings the
    /// booking back).
    public func booking(_ bookingID: String) -> String { key("booking", bookingID) }
    /// Codes a booking no longer answers to; they never resolve again.
    public func retired(_ bookingID: String) -> String { key("retired", bookingID) }
    /// `timeline:<bookingId>` → stream: the timeline as versions before the record held it
    /// (``BookingTimeline``): read and erased, never written; it expires with its record.
    public func timeline(_ bookingID: String) -> String { key("timeline", bookingID) }

    /// The code a code key names (nil for any other key).
    public func code(ofKey key: String) -> String? { id("code", of: key) }
    /// The booking a record's key names (nil for any other key).
    public func bookingID(ofKey key: String) -> String? { id("booking", of: key) }
    /// A `SCAN` pattern for every booking record.
    public var bookingPattern: String { head("booking") + "*" }
    /// The prefixes of code keys and records, whose changes the API's lookup cache follows.
    public var lookupPrefixes: [String] { [head("code"), head("booking")] }
    /// The code key's prefix, for the one-slot scripts that build a code's key from a stored code.
    var codePrefix: String { head("code") }
    /// The record's prefix, for the one-slot scripts that read another booking's record.
    var bookingPrefix: String { head("booking") }

    /// Bookings to fetch from Booxi in the background, one zset per class, scored by when due. One
    /// slot in both layouts: the fetchers pop the most urgent entry across the classes atomically.
    public func fetches(_ callClass: BooxiCallClass) -> String { prefix + "{m}:fetch:" + callClass.description }
    /// `merchant:<merchantId>` → a store's details as Booxi gave them, kept for `api.venueCacheMinutes`
    /// (not part of the mappings: no hash tag).
    public func merchant(_ merchantID: Int) -> String { prefix + "merchant:" + String(merchantID) }
    /// Wakes the workers' fetchers when a fetch is requested.
    public var fetchBell: String { prefix + "{m}:fetch:bell" }
}
