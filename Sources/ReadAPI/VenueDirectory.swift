import BooxiAPI
import BooxiModels
import Foundation
import Logging
import RedisClient
import Synchronization
import TrackingConfig
import TrackingCore

/// Each store's venue, fetched from Booxi (`GET /merchant/{id}`) at most once per
/// `api.venueCacheMinutes` across all replicas: kept in Redis for that long, and in this replica's
/// memory, so a lookup almost never waits for it. A store Booxi cannot describe right now (budget
/// busy, Booxi failing) is shown from `page.venue.*` and asked again a minute later.
final class VenueDirectory: Sendable {
    struct Known: Sendable {
        let venue: Venue
        /// The `venue` member of the view, encoded once.
        let json: [UInt8]
        let until: ContinuousClock.Instant
    }

    private let booxi: BooxiClient
    private let redis: RedisClient
    private let keys: MappingKeys
    private let settings: VenueSettings
    private let defaultTimeZone: String
    private let ttl: Duration
    private let fetchWait: Duration
    private let logger: Logger
    private let known = Mutex<[Int: Known]>([:])
    private let flights = SingleFlight<Known>()
    /// For bookings that name no store.
    let unnamed: Known
    static let retryAfterFailure: Duration = .seconds(60)

    init(
        booxi: BooxiClient, redis: RedisClient, keys: MappingKeys, page: PageSettings, ttl: Duration, fetchWait: Duration, logger: Logger
    ) {
        self.booxi = booxi
        self.redis = redis
        self.keys = keys
        settings = page.venue
        defaultTimeZone = page.timeZone
        self.ttl = ttl
        self.fetchWait = fetchWait
        self.logger = logger
        let fallback = Venue(merchant: nil, settings: page.venue, defaultTimeZone: page.timeZone)
        unnamed = Known(venue: fallback, json: fallback.json(), until: .now + .seconds(365 * 86_400))
    }

    /// This replica's copy, if it is current: no suspension, no Redis.
    private func cached(_ merchantID: Int?) -> Known? {
        guard let merchantID else { return unnamed }
        return known.withLock { $0[merchantID] }.flatMap { $0.until > .now ? $0 : nil }
    }

    /// The store's venue: from memory, else Redis, else Booxi (in the visitor class, as the
    /// lookup that needs it waits). Never throws: without Booxi's details, `page.venue.*` stands in.
    func venue(_ merchantID: Int?) async -> Known {
        if let current = cached(merchantID) { return current }
        guard let merchantID else { return unnamed }
        return (try? await flights.run(key: String(merchantID)) { [self] in try await load(merchantID) }) ?? unnamed
    }

    private func load(_ merchantID: Int) async throws -> Known {
        let key = keys.merchant(merchantID)
        var merchant: Merchant?
        var lifetime = ttl
        if let stored = try? await redis.get(key), let decoded = try? Merchant.decode(stored) {
            merchant = decoded
        } else {
            do {
                merchant = try await booxi.merchant(id: merchantID, .queue(.visitor, wait: fetchWait))
                let encoded = Array(try JSONEncoder().encode(merchant))
                _ = try? await redis.send("SET", key, encoded, "EX", Int(ttl.components.seconds))
            } catch {
                logger.notice("store details unavailable; showing page.venue", metadata: ["merchant": "\(merchantID)", "error": "\(error)"])
                lifetime = Self.retryAfterFailure
            }
        }
        let venue = Venue(merchant: merchant, settings: settings, defaultTimeZone: defaultTimeZone)
        let entry = Known(venue: venue, json: venue.json(), until: .now + lifetime)
        known.withLock { $0[merchantID] = entry }
        return entry
    }
}
