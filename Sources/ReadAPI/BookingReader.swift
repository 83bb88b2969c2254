import BooxiAPI
import Foundation
import JobQueue
import Logging
import RedisClient
import TrackingCore

/// Answers "what is behind this code": the record from Redis, the booking from the cache, refreshed
/// from Booxi when older than the TTL — one refresh at a time per booking, across replicas too —
/// and the last copy, marked stale, when Booxi is down.
struct BookingReader: Sendable {
    let mappings: MappingStore
    let booxi: BooxiClient
    let cacheTTL: Duration
    let flights = SingleFlight<BookingRecord>()
    let cache: LookupCache
    let logger: Logger

    enum Failure: Error {
        case notFound
        /// Nothing cached and Booxi unreachable.
        case unavailable
    }

    func view(for code: TrackingCode, cutoffMinutes: Int) async throws -> TrackingView {
        try await lookup(code, cutoffMinutes: cutoffMinutes).view
    }

    /// The record behind a code and the view of it: from this replica's copy when Redis reported
    /// no change since it was read and the booking is fresh, else from Redis (and Booxi).
    func lookup(_ code: TrackingCode, cutoffMinutes: Int) async throws -> (record: BookingRecord, view: TrackingView) {
        if let hit = cache.entry(for: code), isFresh(hit.record) {
            return (hit.record, TrackingView(entry: hit, stale: false, cutoffMinutes: cutoffMinutes))
        }
        let ticket = cache.ticket()
        guard var record = try await mappings.resolve(code) else { throw Failure.notFound }
        var stale = false
        let readFresh = isFresh(record)
        if !readFresh {
            do {
                record = try await flights.run(key: record.bookingID) { [record] in try await refresh(record) }
            } catch let error as BooxiError {
                if error == .notFound { throw Failure.notFound }
                guard record.cachedBooking != nil else { throw Failure.unavailable }
                logger.notice("serving a stale copy", metadata: ["code": "\(code.logID)", "error": "\(error)"])
                stale = true
            }
        }
        let entry = LookupCache.Entry(record: record)
        // Only what Redis held as read is kept; a refresh's own write is reported and read back next time.
        if readFresh, let ticket { cache.store(entry, for: code, ticket: ticket) }
        return (record, TrackingView(entry: entry, stale: stale, cutoffMinutes: cutoffMinutes))
    }

    func isFresh(_ record: BookingRecord) -> Bool {
        guard let fetchedAt = record.fetchedAt, record.cachedBooking != nil else { return false }
        return JobEnvelope.nowMilliseconds() - fetchedAt < Int64(cacheTTL.components.seconds * 1000)
    }

    /// Fetches the booking unless another replica is already doing so (then waits briefly for its
    /// result).
    private func refresh(_ record: BookingRecord) async throws -> BookingRecord {
        let lock = mappings.keys.refreshLock(record.bookingID)
        guard let token = try await mappings.redis.acquireLock(lock, ttl: booxi.requestTimeout + .seconds(5)) else {
            for _ in 0..<40 {
                try await Task.sleep(for: .milliseconds(50))
                if let fresh = try await mappings.record(bookingID: record.bookingID), isFresh(fresh) { return fresh }
            }
            throw BooxiError.transport("another refresh of this booking is still running")
        }
        let result = await Result(catching: {
            let (booking, raw) = try await booxi.booking(id: record.bookingID)
            // Booxi's status replaces ours only when we have no newer news (a cancellation we made).
            let status = record.isCancelled ? nil : booking.status
            try await mappings.storeBooking(bookingID: record.bookingID, json: raw, status: status, endsAt: booking.endDate)
            return try await mappings.record(bookingID: record.bookingID) ?? record
        })
        try? await mappings.redis.releaseLock(lock, token: token)
        return try result.get()
    }
}
