import Foundation
import JobQueue
import Logging
import ServiceLifecycle

/// A worker process' job processing: lanes for commands and webhooks, and the housekeeper.
///
/// Shutdown is structured, as in swift-jobs' `JobQueueProcessor`: graceful shutdown cancels the
/// lanes' waits for work (``WorkerLane``), the batches in hand finish within the grace period,
/// and when it is over the lanes' tasks are cancelled. Then the housekeeper's task is cancelled
/// and the worker hands back whatever it still holds. No flag is polled.
public final class WorkerService: Service, Sendable {
    public let workerID: String
    let lanes: [WorkerLane]
    let housekeeper: Housekeeper
    let driver: any JobQueueDriver
    let shutdownGrace: Duration
    let logger: Logger

    public struct Lane: Sendable {
        public let queue: QueueName
        public let handler: any JobHandler
        public let count: Int

        public init(queue: QueueName, handler: any JobHandler, count: Int) {
            self.queue = queue
            self.handler = handler
            self.count = count
        }
    }

    public init(
        workerID: String = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8))",
        driver: any JobQueueDriver, lanes: [Lane], batchSize: Int, blockTimeout: Duration, retryPolicy: RetryPolicy,
        heartbeatTTL: Duration, reaperInterval: Duration, shutdownGrace: Duration, logger: Logger
    ) {
        var logger = logger
        logger[metadataKey: "worker"] = "\(workerID)"
        self.workerID = workerID
        self.logger = logger
        self.shutdownGrace = shutdownGrace
        self.driver = driver
        let metrics = WorkerMetrics(kinds: lanes.map(\.handler.name))
        // Each lane has its own processing list (and queue identity `<workerId>-<n>`), so after a
        // Redis outage a lane can return exactly what it held, and a reaper recovers lanes one by one.
        // Every queue shard gets as many lanes blocking on it: the count rounds up to a multiple of the shards.
        var laneNumber = 0
        let shards = driver.shardCount
        self.lanes = lanes.flatMap { lane in
            (0..<Self.laneCount(lane.count, shards: shards)).map { index in
                defer { laneNumber += 1 }
                return WorkerLane(
                    queue: lane.queue, handler: lane.handler, driver: driver, laneID: "\(workerID)-\(laneNumber)", home: index % shards,
                    batchSize: batchSize, blockTimeout: blockTimeout, retryPolicy: retryPolicy, metrics: metrics, logger: logger)
            }
        }
        housekeeper = Housekeeper(
            driver: driver, laneIDs: self.lanes.map(\.laneID), heartbeatTTL: heartbeatTTL,
            reaperInterval: reaperInterval, metrics: metrics, logger: logger)
    }

    /// The lanes a queue gets: `configured`, rounded up to a multiple of the shard count.
    public static func laneCount(_ configured: Int, shards: Int) -> Int {
        let shards = max(1, shards)
        return (max(1, configured) + shards - 1) / shards * shards
    }

    public func run() async throws {
        // Register before fetching, so a crash right after the first fetch is already recoverable.
        try? await driver.heartbeat(laneIDs: housekeeper.laneIDs, ttl: housekeeper.heartbeatTTL)
        logger.info("worker started", metadata: ["lanes": "\(lanes.count)"])
        await withTaskGroup(of: Void.self) { group in
            // The heartbeat goes on until the lanes are done, so no reaper takes jobs still in hand.
            group.addTask { await self.housekeeper.run() }
            await runLanes()
            group.cancelAll()
        }
        do {
            for lane in lanes { try await driver.deregister(laneID: lane.laneID) }
        } catch {
            logger.error("could not hand back held jobs; a reaper will recover them", metadata: ["error": "\(error)"])
        }
        logger.info("worker stopped")
    }

    private enum Finished { case lane, graceOver, notNeeded }

    private func runLanes() async {
        await withTaskGroup(of: Finished.self) { group in
            for lane in lanes {
                group.addTask {
                    await lane.run()
                    return .lane
                }
            }
            // The grace period starts with graceful shutdown; its end cancels the batches in hand.
            group.addTask {
                do { try await gracefulShutdown() } catch { return .notNeeded }
                try? await Task.sleep(for: self.shutdownGrace)
                return Task.isCancelled ? .notNeeded : .graceOver
            }
            var running = lanes.count
            while let finished = await group.next() {
                switch finished {
                case .graceOver:
                    logger.warning("shutdown grace period over: cancelling in-flight jobs")
                    group.cancelAll()
                case .lane:
                    running -= 1
                    if running == 0 { group.cancelAll() }
                case .notNeeded:
                    break
                }
            }
        }
    }
}
