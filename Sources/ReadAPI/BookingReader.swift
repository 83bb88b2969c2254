import BooxiAPI
import Foundation
import JobQueue
import Logging
import RedisClient
import TrackingCore

/// Answers "what is behind this code" without spending the visitor's time on Booxi when it can:
/// - a current copy (fetched within the TTL, or kept current by the webhooks) is served as it is;
/// - a copy past its TTL is served too, and a refresh is queued in the background class;
/// - a booking with no current details (never fetched, or changed by a webhook that did not
///   carry them) is fetched in the visitor class, waiting at most `fetchWait` for its turn; past
///   that the visitor is told it is being prepared, and a worker fetches it in that class.
/// `stale` is set only when Booxi itself fails and the last copy is all there is.
struct BookingReader: Sendable {
    let mappings: MappingStore
    let fetches: BookingFetches
    let booxi: BooxiClient
    let cacheTTL: Duration
    let fetchWait: Duration
    let flights = SingleFlight<BookingRecord>()
    let cache: LookupCache
    let logger: Logger

    enum Failure: Error {
        case notFound
        /// No turn in the budget within `fetchWait`: a worker fetches it; ask again after this.
        case preparing(retryAfterSeconds: Int)
        /// Booxi answered with an error or not at all, and there is no copy to fall back on.
        case booxi(BooxiError)
    }

    /// How usable the record's copy of the booking is.
    enum Freshness: Equatable {
        case current
        /// Past the TTL: served, refreshed in the background.
        case aging
        /// No copy, or one an event made out of date.
        case missing
    }

    func freshness(_ record: BookingRecord, now: Int64 = JobEnvelope.nowMilliseconds()) -> Freshness {
        guard record.cachedBooking != nil else { return .missing }
        // A cancellation changes only the status, which the record holds: the copy still tells the
        // rest, and nothing changes after it.
        if record.lastEvent == WebhookEvent.EventType.cancelled.rawValue { return .current }
        guard let fetchedAt = record.fetchedAt else { return .missing }
        return now - fetchedAt < Int64(cacheTTL.components.seconds * 1000) ? .current : .aging
    }

    /// What a lookup found: the record with its booking decoded, and whether that copy is all
    /// there is while Booxi fails.
    struct Found {
        let entry: LookupCache.Entry
        let stale: Bool
        var record: BookingRecord { entry.record }
    }

    /// The record behind a code and its booking: from this replica's copy when Redis reported
    /// no change since it was read and the booking is current, else from Redis (and Booxi).
    func lookup(_ code: TrackingCode) async throws -> Found {
        if let hit = cache.entry(for: code), freshness(hit.record) == .current {
            return Found(entry: hit, stale: false)
        }
        let ticket = cache.ticket()
        guard var record = try await mappings.resolve(code) else { throw Failure.notFound }
        var stale = false
        switch freshness(record) {
        case .current:
            let entry = LookupCache.Entry(record: record)
            // Only what Redis held as read is kept; later writes are reported and evict it.
            if let ticket { cache.store(entry, for: code, ticket: ticket) }
            return Found(entry: entry, stale: false)
        case .aging:
            try await fetches.request(record.bookingID, .refresh)
        case .missing:
            do {
                record = try await flights.run(key: record.bookingID) { [record] in try await fetchNow(record) }
            } catch let error as BooxiError {
                switch error {
                case .notFound:
                    throw Failure.notFound
                case .budgetBusy, .rateLimited:
                    try await fetches.request(record.bookingID, .visitor)
                    throw Failure.preparing(retryAfterSeconds: 2)
                default:
                    guard error.isBooxiFailure, record.cachedBooking != nil else { throw Failure.booxi(error) }
                    logger.notice("serving a stale copy", metadata: ["code": "\(code.logID)", "error": "\(error)"])
                    stale = true
                }
            }
        }
        return Found(entry: LookupCache.Entry(record: record), stale: stale)
    }

    /// Fetches the booking in the visitor class and stores it.
    private func fetchNow(_ record: BookingRecord) async throws -> BookingRecord {
        let (booking, _) = try await booxi.booking(id: record.bookingID, .queue(.visitor, wait: fetchWait))
        try await mappings.storeBooking(
            bookingID: record.bookingID, booking: booking, status: booking.status, endsAt: booking.endDate, ifVersion: record.version)
        return try await mappings.record(bookingID: record.bookingID) ?? record
    }
}
