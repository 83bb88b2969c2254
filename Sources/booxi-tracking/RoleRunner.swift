import AsyncHTTPClient
import Foundation
import HTTPSupport
import Logging
import NIOCore
import RedisClient
import ServiceLifecycle
import TrackingConfig

/// Starts a role: logging at the configured level, metrics, one Redis client, the role's services in one
/// `ServiceGroup` that shuts down gracefully on SIGTERM/SIGINT, then closes Redis.
enum RoleRunner {
    static func run(
        role: String, configuration: AppConfiguration, redisConfiguration: RedisConfiguration? = nil,
        services: (RoleResources) throws -> [any Service]
    ) async throws {
        bootstrapLogging(level: configuration.logLevel)
        Observability.bootstrapMetrics()  // before the Redis client makes its metrics
        var logger = Logger(label: "booxi-tracking.\(role)")
        logger[metadataKey: "role"] = "\(role)"
        let redis = RedisClient(configuration: redisConfiguration ?? configuration.redis, logger: logger)
        // One HTTP client per process, for Booxi (or the simulator's webhooks), shut down at the end.
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.timeout.connect = .milliseconds(configuration.booxi.connectTimeout.milliseconds)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        let resources = RoleResources(redis: redis, http: http, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: try services(resources).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        logger.info("starting", metadata: ["redis": "\(configuration.redis.displayAddress)"])
        let result = await Result(catching: { try await group.run() })
        try? await http.shutdown()
        await redis.shutdown()
        try result.get()
        logger.info("stopped")
    }

    private static let loggingBootstrapped = NSLock()
    nonisolated(unsafe) private static var didBootstrap = false

    static func bootstrapLogging(level: String) {
        loggingBootstrapped.withLock {
            guard !didBootstrap else { return }
            didBootstrap = true
            let logLevel = Logger.Level(rawValue: level) ?? .info
            LoggingSystem.bootstrap { label in DeferredMetadataLogHandler(label: label, level: logLevel) }
        }
    }
}

/// What every role gets from the runner.
struct RoleResources {
    let redis: RedisClient
    let http: HTTPClient
    let logger: Logger
}
