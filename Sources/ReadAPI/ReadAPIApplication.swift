import BooxiAPI
import Crypto
import Foundation
import HTTPSupport
import Hummingbird
import JobQueue
import Logging
import NIOCore
import RedisClient
import ServiceLifecycle
import TrackingConfig
import TrackingCore

/// Builds the `api` role: tracking lookups, cancel/modify through the workers, services and
/// availability, operational routes, and the tracking page itself; with a lookup cache, also the
/// key tracking that keeps it in step with Redis. The Booxi client's scheduler is not among the
/// services: the caller runs it first (it must outlive every service that calls Booxi).
public func buildReadAPIServices(
    configuration: AppConfiguration, redis: RedisClient, booxi: BooxiClient, logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> [any Service] {
    let settings = configuration.api
    let keys = MappingKeys(prefix: configuration.keyPrefix, cluster: redis.isCluster)
    let mappings = MappingStore(redis: redis, keys: keys, retentionSeconds: configuration.worker.recordRetentionHours * 3600)
    let cache = LookupCache(capacity: settings.lookupCacheCapacity, keys: keys)
    // Without a secret of their own, slot tokens are sealed with a key derived from the Partner API
    // key, which every replica has; the roles that reach this point always have one.
    let slotSecret = (configuration.secrets.slotTokenSecret ?? configuration.secrets.booxiPartnerAPIKey)?.revealed ?? ""
    let catalog = try MessageCatalog(settings: configuration.page)
    let page = configuration.page
    let api = ReadAPIRoutes(
        settings: settings,
        reader: BookingReader(
            mappings: mappings, fetches: BookingFetches(redis: redis, keys: keys), booxi: booxi,
            cacheTTL: .seconds(settings.cacheTTLSeconds), fetchWait: settings.fetchWait, cache: cache, logger: logger),
        mappings: mappings,
        commands: CommandStore(
            redis: redis, shards: configuration.queueShards,
            replicaWait: ReplicaWait(replicas: configuration.ingress.replicaAcks, timeout: configuration.ingress.replicaAckTimeout),
            timeline: BookingTimeline(keyPrefix: configuration.keyPrefix, cluster: redis.isCluster)),
        slotTokens: SlotTokens(secret: slotSecret, lifetime: .seconds(settings.slotTokenTTLSeconds)),
        catalog: Catalog(redis: redis, booxi: booxi, keyPrefix: configuration.keyPrefix, fetchWait: settings.fetchWait),
        lookups: RequestThrottle(
            perClientPerMinute: settings.lookupsPerMinutePerIP, globalPerSecond: settings.lookupsPerSecondGlobal, name: "api_lookups"),
        actions: RequestThrottle(
            perClientPerMinute: settings.actionsPerMinutePerIP, globalPerSecond: settings.actionsPerSecondGlobal, name: "api_actions"),
        clientAddress: ClientAddressResolver(trustedProxies: settings.trustedProxies),
        venues: VenueDirectory(
            booxi: booxi, redis: redis, keys: keys, page: page, ttl: settings.venueCacheTTL, fetchWait: settings.fetchWait, logger: logger),
        calendar: CalendarFile.Writer(
            uidKey: SymmetricKey(data: SHA256.hash(data: Data(("calendar-uid:" + slotSecret).utf8))), businessName: page.businessName,
            publicURL: settings.publicURL, messages: catalog),
        policy: TrackingView.Policy(
            cutoffMinutes: settings.actionCutoffMinutes, bookAgainWithWidget: !page.widgetAPIKey.isEmpty,
            bookAgainWithLink: !page.bookingURL.isEmpty))
    let router = Router.forRole()
    router.add(
        middleware: ResponseHeadersMiddleware(
            allowedOrigins: Set(settings.allowedOrigins),
            contentSecurityPolicy: "default-src 'none'; frame-ancestors \(settings.frameAncestors)",
            strictTransportSecurity: settings.publicURL.hasPrefix("https://") && settings.hstsMaxAgeSeconds > 0
                ? "max-age=\(settings.hstsMaxAgeSeconds)" : nil))
    router.add(middleware: JSONErrorMiddleware())
    addHealthRoute(to: router)  // `/readyz` and `/metrics` are on the operations listener
    api.addRoutes(to: router)
    try TrackingPage(settings: page, catalog: catalog, frameAncestors: settings.frameAncestors).addRoutes(to: router)
    let edge = EdgeGuard(
        limits: settings.edge, listener: "api", clientAddress: ClientAddressResolver(trustedProxies: settings.trustedProxies),
        logger: logger)
    let application = Application(
        router: router, server: .publicHTTP1(edge),
        configuration: .publicListener(host: settings.host, port: settings.port),
        onServerRunning: onServerRunning, logger: logger)
    guard cache.capacity > 0 else { return [application] }
    let tracker = RedisKeyTracker(redis: redis, prefixes: cache.trackedPrefixes, logger: logger)
    return [application, LookupCacheTracking(cache: cache, tracker: tracker)]
}

extension APISettings {
    /// Blocking connections the API needs: one per request waiting for a command's result, and
    /// one for the Booxi budget's grants.
    public var blockingConnections: Int { 65 }
}
