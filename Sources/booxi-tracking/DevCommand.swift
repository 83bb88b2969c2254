import ArgumentParser
import TrackingConfig

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the simulator, ingress, a worker and the API in one process against a local Redis, for a first run.",
        discussion: "scripts/dev.sh runs each role as its own process instead, as in production.")
    @OptionGroup var options: CommonOptions

    func run() async throws {
        let configuration = try await loadConfiguration(options)
        var redis = configuration.redis
        redis.blockingPoolSize = max(
            redis.blockingPoolSize,
            configuration.api.blockingConnections + configuration.worker.blockingConnections(queueShards: configuration.queueShards.count))
        try await RoleRunner.run(role: "dev", configuration: configuration, redisConfiguration: redis) { role in
            (try simulatorServices(configuration: configuration, role: role))
                + (try ingressServices(configuration: configuration, role: role))
                + (try apiServices(configuration: configuration, role: role))
                + (try workerServices(configuration: configuration, role: role, workerID: nil))
        }
    }
}
