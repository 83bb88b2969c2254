import AsyncHTTPClient
import Foundation
import HTTPSupport
import Logging
import NIOCore
import PipelineStats
import RedisClient
import ServiceLifecycle
import Synchronization
import TrackingConfig

/// Starts a role: logging at the configured level, metrics, one Redis client, the role's services in one
/// `ServiceGroup` that shuts down gracefully on SIGTERM/SIGINT, then closes Redis.
enum RoleRunner {
    static func run(
        role: String, configuration: AppConfiguration, redisConfiguration: RedisConfiguration? = nil,
        services: (RoleResources) throws -> [any Service]
    ) async throws {
        bootstrapLogging(level: configuration.logLevel)
        Observability.bootstrap(role: role)  // before the Redis client or any role makes its metrics
        var logger = Logger(label: "booxi-tracking.\(role)")
        logger[metadataKey: "role"] = "\(role)"
        let redis = RedisClient(configuration: redisConfiguration ?? configuration.redis, logger: logger)
        // One HTTP client per process, for Booxi (or the simulator's webhooks), shut down at the end.
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.timeout.connect = .milliseconds(configuration.booxi.connectTimeout.milliseconds)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        let resources = RoleResources(redis: redis, http: http, logger: logger)
        logger.info("starting", metadata: ["redis": "\(configuration.redis.displayAddress)"])
        // Whatever happens, building the services included, the clients are shut down before the error is reported.
        let result = await Result {
            let group = ServiceGroup(
                configuration: .init(
                    services: (try services(resources) + minuteStats(role: role, configuration: configuration, resources)).map { .init(service: $0) },
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            try await group.run()
        }
        try? await http.shutdown()
        await redis.shutdown()
        switch result {
        case .failure(let error as RedisError): throw RuntimeFailure("\(error)")
        case .failure(let error as ConfigurationError): throw configurationFailure(error)
        case .failure(let error): throw error
        case .success: logger.info("stopped")
        }
    }

    /// The roles on the pipeline add their counts to the per-minute series the console charts.
    static func minuteStats(role: String, configuration: AppConfiguration, _ resources: RoleResources) -> [any Service] {
        guard ["ingress", "worker", "api", "dev"].contains(role) else { return [] }
        return [MinuteStatsFlusher(redis: resources.redis, keyPrefix: configuration.keyPrefix, logger: resources.logger)]
    }

    private static let loggingBootstrapped = Mutex(false)

    /// `LoggingSystem.bootstrap` may run once per process (`dev` and admin commands reach here too).
    static func bootstrapLogging(level: Logger.Level) {
        loggingBootstrapped.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in DeferredMetadataLogHandler(label: label, level: level) }
        }
    }
}

/// What every role gets from the runner.
struct RoleResources {
    let redis: RedisClient
    let http: HTTPClient
    let logger: Logger
}
