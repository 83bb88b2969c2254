import ArgumentParser
import BooxiAPI
import BooxiSimulator
import Ingress
import ReadAPI
import TrackingConfig

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the simulator, ingress, a worker and the API in one process against a local Redis, for a first run.",
        discussion: "scripts/dev.sh starts Redis and this, with separate processes per role if you pass --split to it.")
    @OptionGroup var options: CommonOptions

    func run() async throws {
        let configuration = try await loadConfiguration(options)
        var redis = configuration.redis
        redis.blockingPoolSize = max(redis.blockingPoolSize, configuration.api.blockingConnections + configuration.worker.blockingConnections)
        try await RoleRunner.run(role: "dev", configuration: configuration, redisConfiguration: redis) { role in
            let simulator = BooxiSimulator(
                settings: .init(
                    host: configuration.simulator.host, port: configuration.simulator.port, apiKey: configuration.secrets.booxiPartnerAPIKey,
                    webhookURL: configuration.simulator.webhookURL, webhookToken: configuration.secrets.webhookTokens.first),
                http: role.http, logger: role.logger)
            return [
                simulator.buildApplication(logger: role.logger),
                try buildIngressApplication(configuration: configuration, redis: role.redis, logger: role.logger),
                try buildReadAPIApplication(
                    configuration: configuration, redis: role.redis, booxi: try BooxiClient.make(configuration: configuration, role: role),
                    logger: role.logger),
            ] + (try workerServices(configuration: configuration, role: role, workerID: nil))
        }
    }
}
