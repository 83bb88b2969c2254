import ArgumentParser
import RedisClient
import TrackingConfig

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Operate a running system: check configuration and Redis, queues and dead letters.",
        subcommands: [CheckCommand.self])
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate the configuration and ping Redis; exits non-zero on a problem.")
    @OptionGroup var options: CommonOptions

    func run() async throws {
        let config = try await loadConfiguration(options)
        print("configuration: ok (redis \(config.redis.displayAddress), booxi \(config.booxi.baseURL), \(config.secrets))")
        let redis = RedisClient(configuration: config.redis)
        defer { Task { await redis.shutdown() } }
        do {
            try await redis.send("PING")
            print("redis: reachable")
        } catch {
            print("redis: \(error)")
            throw ExitCode(1)
        }
    }
}
