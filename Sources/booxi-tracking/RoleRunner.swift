import Foundation
import Logging
import RedisClient
import ServiceLifecycle
import TrackingConfig

/// Starts a role: logging at the configured level, one Redis client, the role's services in one
/// `ServiceGroup` that shuts down gracefully on SIGTERM/SIGINT, then closes Redis.
enum RoleRunner {
    static func run(
        role: String, configuration: AppConfiguration, redisConfiguration: RedisConfiguration? = nil,
        services: (RedisClient, Logger) throws -> [any Service]
    ) async throws {
        bootstrapLogging(level: configuration.logLevel)
        var logger = Logger(label: "booxi-tracking.\(role)")
        logger[metadataKey: "role"] = "\(role)"
        let redis = RedisClient(configuration: redisConfiguration ?? configuration.redis, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: try services(redis, logger).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        logger.info("starting", metadata: ["redis": "\(configuration.redis.displayAddress)"])
        do {
            try await group.run()
        } catch {
            await redis.shutdown()
            throw error
        }
        await redis.shutdown()
        logger.info("stopped")
    }

    private static let loggingBootstrapped = NSLock()
    nonisolated(unsafe) private static var didBootstrap = false

    static func bootstrapLogging(level: String) {
        loggingBootstrapped.withLock {
            guard !didBootstrap else { return }
            didBootstrap = true
            let logLevel = Logger.Level(rawValue: level) ?? .info
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = logLevel
                return handler
            }
        }
    }
}
