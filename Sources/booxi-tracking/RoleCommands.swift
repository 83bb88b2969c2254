import ArgumentParser
import Foundation
import TrackingConfig

/// Loads the configuration or exits with the key that is wrong.
func loadConfiguration(_ options: CommonOptions) async throws -> AppConfiguration {
    do {
        return try await AppConfiguration.load(overrideFile: options.config)
    } catch let error as ConfigurationError {
        throw configurationFailure(error)
    }
}

/// A configuration error, found at load or when a role needs a key: one line naming the key, and
/// exit status 78 (EX_CONFIG), so a supervisor can tell it from a crash.
func configurationFailure(_ error: ConfigurationError) -> ExitCode {
    FileHandle.standardError.write(Data("booxi-tracking: configuration error: \(error)\n".utf8))
    return ExitCode(78)
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
            try ingressServices(configuration: configuration, role: role)
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
        redis.blockingPoolSize = max(redis.blockingPoolSize, configuration.worker.blockingConnections(queueShards: configuration.queueShards.count))
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
            try apiServices(configuration: configuration, role: role)
        }
    }
}

/// A failure while running (Redis unreachable, a refusal from a server), not a mistake in the
/// command line: ArgumentParser prints it as one `Error:` line, without the usage text, and exits 1.
struct RuntimeFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
