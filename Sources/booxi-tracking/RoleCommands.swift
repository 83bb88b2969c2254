import ArgumentParser
import Foundation
import BooxiAPI
import Ingress
import ReadAPI
import JobQueue
import TrackingCore
import Worker
import ServiceLifecycle
import TrackingConfig

/// Loads the configuration or exits with the key that is wrong.
func loadConfiguration(_ options: CommonOptions) async throws -> AppConfiguration {
    do {
        return try await AppConfiguration.load(overrideFile: options.config)
    } catch let error as ConfigurationError {
        FileHandle.standardError.write(Data("booxi-tracking: configuration error: \(error)\n".utf8))
        throw ExitCode(78)  // EX_CONFIG
    }
}

/// A role that is planned but not part of this build yet: it says so and exits non-zero.
func notBuiltYet(_ role: String) -> ExitCode {
    FileHandle.standardError.write(Data("booxi-tracking \(role): this role is not built yet.\n".utf8))
    return ExitCode(2)
}

struct IngressCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingress",
        abstract: "Accept Booxi webhooks and acknowledge them once they are durably on a Redis list.")
    @OptionGroup var options: CommonOptions

    func run() async throws {
        let configuration = try await loadConfiguration(options)
        // A push that Redis cannot take within the deadline is answered 503, so Booxi retries.
        var redis = configuration.redis
        redis.commandTimeout = configuration.ingress.pushDeadline
        redis.poolWaitTimeout = configuration.ingress.pushDeadline
        try await RoleRunner.run(role: "ingress", configuration: configuration, redisConfiguration: redis) { role in
            [try buildIngressApplication(configuration: configuration, redis: role.redis, logger: role.logger)]
        }
    }
}

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Drain the webhook and command queues, keep the tracking mappings, call Booxi.")
    @OptionGroup var options: CommonOptions
    @Option(help: "This worker's id (default: host-pid-random). Must be unique among running workers.")
    var id: String?

    func run() async throws {
        let configuration = try await loadConfiguration(options)
        var redis = configuration.redis
        redis.blockingPoolSize = max(redis.blockingPoolSize, configuration.worker.blockingConnections)
        try await RoleRunner.run(role: "worker", configuration: configuration, redisConfiguration: redis) { role in
            try workerServices(configuration: configuration, role: role, workerID: id)
        }
    }
}

struct APICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api", abstract: "Serve tracking lookups, cancel and modify, and the page at /track/:code.")
    @OptionGroup var options: CommonOptions

    func run() async throws {
        let configuration = try await loadConfiguration(options)
        var redis = configuration.redis
        redis.blockingPoolSize = max(redis.blockingPoolSize, configuration.api.blockingConnections)
        try await RoleRunner.run(role: "api", configuration: configuration, redisConfiguration: redis) { role in
            [try buildReadAPIApplication(
                configuration: configuration, redis: role.redis, booxi: try BooxiClient.make(configuration: configuration, role: role),
                logger: role.logger)]
        }
    }
}

/// The worker's services with its command handler (Booxi calls).
func workerServices(configuration: AppConfiguration, role: RoleResources, workerID: String?) throws -> [any Service] {
    let keyPrefix = configuration.keyPrefix
    let commands = CommandHandler(
        booxi: try BooxiClient.make(configuration: configuration, role: role),
        mappings: MappingStore(
            redis: role.redis, keys: MappingKeys(prefix: keyPrefix), retentionSeconds: configuration.worker.recordRetentionHours * 3600),
        commands: CommandStore(redis: role.redis, keys: QueueKeys(prefix: keyPrefix)),
        maxAttempts: configuration.retry.maxAttempts, logger: role.logger)
    return buildWorkerServices(configuration: configuration, redis: role.redis, commandHandler: commands, logger: role.logger, workerID: workerID)
}
