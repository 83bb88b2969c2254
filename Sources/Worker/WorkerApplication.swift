import HTTPSupport
import HTTPTypes
import Hummingbird
import JobQueue
import Logging
import NIOCore
import RedisClient
import ServiceLifecycle
import TrackingConfig
import TrackingCore

/// The services of a worker process: the job lanes (commands first, then webhooks, each with
/// `worker.concurrency` lanes) and a small HTTP server for `/healthz`, `/readyz` and `/metrics`.
public func buildWorkerServices(
    configuration: AppConfiguration, redis: RedisClient, commandHandler: (any JobHandler)?, logger: Logger,
    workerID: String? = nil
) -> [any Service] {
    Observability.bootstrap(role: "worker")
    let keys = QueueKeys(prefix: configuration.keyPrefix)
    let queue = JobQueue(redis: redis, keys: keys)
    let settings = configuration.worker
    let mappings = MappingStore(
        redis: redis, keys: MappingKeys(prefix: configuration.keyPrefix), retentionSeconds: settings.recordRetentionHours * 3600)
    var lanes = [WorkerService.Lane(source: keys.webhooks, handler: WebhookHandler(mappings: mappings, logger: logger), count: settings.concurrency)]
    if let commandHandler {
        lanes.insert(WorkerService.Lane(source: keys.commands, handler: commandHandler, count: settings.concurrency), at: 0)
    }
    let retry = RetryPolicy(base: configuration.retry.base, cap: configuration.retry.cap, maxAttempts: configuration.retry.maxAttempts)
    let service =
        if let workerID {
            WorkerService(
                workerID: workerID, queue: queue, lanes: lanes, batchSize: settings.batchSize, blockTimeout: settings.blockTimeout,
                retryPolicy: retry, heartbeatTTL: settings.heartbeatTTL, reaperInterval: settings.reaperInterval,
                shutdownGrace: settings.shutdownGrace, logger: logger)
        } else {
            WorkerService(
                queue: queue, lanes: lanes, batchSize: settings.batchSize, blockTimeout: settings.blockTimeout,
                retryPolicy: retry, heartbeatTTL: settings.heartbeatTTL, reaperInterval: settings.reaperInterval,
                shutdownGrace: settings.shutdownGrace, logger: logger)
        }
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: JSONErrorMiddleware())
    addOperationalRoutes(to: router) { await redis.isReachable() }
    let http = Application(
        router: router, configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
        logger: logger)
    return [service, http]
}

extension WorkerSettings {
    /// Blocking connections a worker needs: one per lane (commands and webhooks) and one spare.
    public var blockingConnections: Int { 2 * concurrency + 1 }
}
