import BooxiAPI
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
/// availability, operational routes, and (with the page issue) the tracking page itself; with a
/// lookup cache, also the key tracking that keeps it in step with Redis.
public func buildReadAPIServices(
    configuration: AppConfiguration, redis: RedisClient, booxi: BooxiClient, logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> [any Service] {
    Observability.bootstrap(role: "api")
    let settings = configuration.api
    let keys = MappingKeys(prefix: configuration.keyPrefix)
    let mappings = MappingStore(redis: redis, keys: keys, retentionSeconds: configuration.worker.recordRetentionHours * 3600)
    let cache = LookupCache(capacity: settings.lookupCacheCapacity, keys: keys)
    let api = TrackingAPI(
        settings: settings,
        reader: BookingReader(
            mappings: mappings, booxi: booxi, cacheTTL: .seconds(settings.cacheTTLSeconds),
            cache: cache, logger: logger),
        commands: CommandStore(redis: redis, keys: QueueKeys(prefix: configuration.keyPrefix)),
        catalog: Catalog(redis: redis, booxi: booxi, keyPrefix: configuration.keyPrefix),
        lookups: RequestThrottle(perClientPerMinute: settings.lookupsPerMinutePerIP, globalPerSecond: settings.lookupsPerSecondGlobal),
        actions: RequestThrottle(perClientPerMinute: settings.actionsPerMinutePerIP, globalPerSecond: settings.actionsPerSecondGlobal),
        clientAddress: ClientAddressResolver(trustedProxies: settings.trustedProxies))
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ResponseHeadersMiddleware(
        allowedOrigins: Set(settings.allowedOrigins),
        contentSecurityPolicy: "default-src 'none'; frame-ancestors \(settings.frameAncestors)"))
    router.add(middleware: JSONErrorMiddleware())
    addOperationalRoutes(to: router) { await redis.isReachable() }
    api.addRoutes(to: router)
    try TrackingPage(settings: configuration.page, frameAncestors: settings.frameAncestors).addRoutes(to: router)
    let application = Application(
        router: router, configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
        onServerRunning: onServerRunning, logger: logger)
    guard cache.capacity > 0 else { return [application] }
    let tracker = RedisKeyTracker(configuration: redis.configuration, prefixes: cache.trackedPrefixes, logger: logger)
    return [application, LookupCacheTracking(cache: cache, tracker: tracker)]
}

extension APISettings {
    /// Blocking connections the API needs: one per request waiting for a command's result.
    public var blockingConnections: Int { 64 }
}
