import BooxiModels

/// The mapping keys (docs/architecture.md §3). All share the `{m}` hash tag, so one script can touch them on
/// Redis Cluster too. One key per code and per booking, rather than fields of two big hashes,
/// because each record expires on its own (Redis 7.0 has no per-field TTL).
public struct MappingKeys: Sendable {
    public let prefix: String

    public init(prefix: String = "bxt:") {
        self.prefix = prefix
    }

    /// `code:<code>` → bookingId.
    public var codePrefix: String { prefix + "{m}:code:" }
    public func code(_ code: TrackingCode) -> String { codePrefix + code.value }
    /// `booking:<bookingId>` → hash: code, status, version, event, names, cached booking, the
    /// timeline (``BookingTimeline``); after an erase only `erased` (so no event brings the
    /// booking back).
    public var bookingPrefix: String { prefix + "{m}:booking:" }
    public func booking(_ bookingID: String) -> String { bookingPrefix + bookingID }
    /// Codes a booking no longer answers to; they never resolve again.
    public func retired(_ bookingID: String) -> String { prefix + "{m}:retired:" + bookingID }
    /// `timeline:<bookingId>` → stream: the timeline as versions before the record held it
    /// (``BookingTimeline``): read and erased, never written; it expires with its record.
    public func timeline(_ bookingID: String) -> String { prefix + "{m}:timeline:" + bookingID }
    /// Bookings to fetch from Booxi in the background, one zset per class, scored by when due.
    public func fetches(_ callClass: BooxiCallClass) -> String { prefix + "{m}:fetch:" + callClass.description }
    /// `merchant:<merchantId>` → a store's details as Booxi gave them, kept for `api.venueCacheMinutes`
    /// (not part of the mappings: no hash tag).
    public func merchant(_ merchantID: Int) -> String { prefix + "merchant:" + String(merchantID) }
    /// Wakes the workers' fetchers when a fetch is requested.
    public var fetchBell: String { prefix + "{m}:fetch:bell" }
}
