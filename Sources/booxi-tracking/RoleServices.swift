import BooxiAPI
import BooxiSimulator
import HTTPSupport
import Ingress
import JobQueue
import ReadAPI
import ServiceLifecycle
import TrackingConfig
import TrackingCore
import Worker

// The services of each role, built from configuration; the role commands and `dev` compose them.

func ingressServices(configuration: AppConfiguration, role: RoleResources) throws -> [any Service] {
    let settings = configuration.ingress
    return [
        try buildIngressApplication(configuration: configuration, redis: role.redis, logger: role.logger),
        operations(host: settings.opsHost, port: settings.opsPort, role: role),
    ]
}

func apiServices(configuration: AppConfiguration, role: RoleResources) throws -> [any Service] {
    let booxi = try BooxiClient.make(configuration: configuration, role: role)
    let settings = configuration.api
    return [booxi.scheduler]
        + (try buildReadAPIServices(configuration: configuration, redis: role.redis, booxi: booxi, logger: role.logger))
        + [operations(host: settings.opsHost, port: settings.opsPort, role: role)]
}

/// A role's operations listener (its readiness is Redis answering).
private func operations(host: String, port: Int, role: RoleResources) -> any Service {
    buildOperationsApplication(host: host, port: port, logger: role.logger) { [redis = role.redis] in await redis.isReachable() }
}

/// The worker's services with its command handler (Booxi calls).
func workerServices(configuration: AppConfiguration, role: RoleResources, workerID: String?) throws -> [any Service] {
    let keyPrefix = configuration.keyPrefix
    let booxi = try BooxiClient.make(configuration: configuration, role: role)
    let commands = CommandHandler(
        booxi: booxi,
        mappings: MappingStore(
            redis: role.redis, keys: MappingKeys(prefix: keyPrefix, cluster: role.redis.isCluster),
            retentionSeconds: configuration.worker.recordRetentionHours * 3600),
        commands: CommandStore(
            redis: role.redis, shards: configuration.queueShards,
            timeline: BookingTimeline(keyPrefix: keyPrefix, cluster: role.redis.isCluster)),
        maxAttempts: configuration.retry.maxAttempts, logger: role.logger)
    return [booxi.scheduler]
        + buildWorkerServices(
            configuration: configuration, redis: role.redis, commandHandler: commands, booxi: booxi, logger: role.logger, workerID: workerID)
}

func simulatorServices(configuration: AppConfiguration, role: RoleResources) throws -> [any Service] {
    let settings = configuration.simulator
    let seed: SimulatorSeed
    do { seed = try SimulatorSeed.load(path: settings.seedFile) } catch {
        throw ConfigurationError(key: "simulator.seedFile", reason: "\(error)")
    }
    let simulator = BooxiSimulator(
        settings: .init(
            host: settings.host, port: settings.port, apiKey: configuration.secrets.booxiPartnerAPIKey?.revealed,
            webhookURL: settings.webhookURL, webhookToken: configuration.secrets.webhookTokens.first?.revealed, seed: seed,
            fairUse: settings.requestsPerSecond > 0 && settings.requestsPerMinute > 0
                ? FairUsePolicy(perSecond: settings.requestsPerSecond, perMinute: settings.requestsPerMinute) : nil),
        http: role.http, logger: role.logger)
    return [simulator.buildApplication(logger: role.logger)]
}
