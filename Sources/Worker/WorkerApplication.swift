import BooxiAPI
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
/// `worker.concurrency` lanes), with a Booxi client the background booking fetcher, and a small
/// HTTP server for `/healthz`, `/readyz` and `/metrics`. The Booxi client's scheduler is not among
/// them: the caller runs it first (it must outlive every service that calls Booxi).
public func buildWorkerServices(
    configuration: AppConfiguration, redis: RedisClient, commandHandler: (any JobHandler)?, booxi: BooxiClient?, logger: Logger,
    workerID: String? = nil
) -> [any Service] {
    let queue = JobQueue(redis: redis, shards: configuration.queueShards)
    let settings = configuration.worker
    let mappings = MappingStore(
        redis: redis, keys: MappingKeys(prefix: configuration.keyPrefix, cluster: redis.isCluster),
        retentionSeconds: settings.recordRetentionHours * 3600)
    let fetches = BookingFetches(redis: redis, keys: mappings.keys)
    var lanes = [
        WorkerService.Lane(
            queue: .webhooks, handler: WebhookHandler(mappings: mappings, logger: logger), count: settings.concurrency)
    ]
    if let commandHandler {
        lanes.insert(WorkerService.Lane(queue: .commands, handler: commandHandler, count: settings.concurrency), at: 0)
    }
    let retry = RetryPolicy(base: configuration.retry.base, cap: configuration.retry.cap, maxAttempts: configuration.retry.maxAttempts)
    let service =
        if let workerID {
            WorkerService(
                workerID: workerID, driver: queue, lanes: lanes, batchSize: settings.batchSize, blockTimeout: settings.blockTimeout,
                retryPolicy: retry, heartbeatTTL: settings.heartbeatTTL, reaperInterval: settings.reaperInterval,
                shutdownGrace: settings.shutdownGrace, logger: logger)
        } else {
            WorkerService(
                driver: queue, lanes: lanes, batchSize: settings.batchSize, blockTimeout: settings.blockTimeout,
                retryPolicy: retry, heartbeatTTL: settings.heartbeatTTL, reaperInterval: settings.reaperInterval,
                shutdownGrace: settings.shutdownGrace, logger: logger)
        }
    let router = Router.forRole()
    router.add(middleware: JSONErrorMiddleware())
    addOperationalRoutes(to: router) { await redis.isReachable() }
    let http = Application(
        router: router, configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
        logger: logger)
    let repair = VersionRepairService(mappings: mappings, logger: logger)
    guard let booxi, settings.prefetchConcurrency > 0 else { return [service, http, repair] }
    let fetcher = BookingFetcher(fetches: fetches, mappings: mappings, booxi: booxi, concurrency: settings.prefetchConcurrency, logger: logger)
    return [fetcher, service, http, repair]
}

extension WorkerSettings {
    /// Blocking connections a worker needs: one per lane (commands and webhooks, each
    /// `concurrency` rounded up to a multiple of the queue shards), one per booking fetcher, one
    /// for the Booxi budget's grants and one spare.
    public func blockingConnections(queueShards: Int) -> Int {
        2 * WorkerService.laneCount(concurrency, shards: queueShards) + prefetchConcurrency + 2
    }
}
