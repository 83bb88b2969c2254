import Foundation
import JobQueue
import Logging
import ServiceLifecycle
import Synchronization

/// A worker process' job processing: lanes for commands and webhooks, and the housekeeper. On
/// graceful shutdown it stops fetching, lets the batches in hand finish within the grace period,
/// then hands back whatever it still holds.
public final class WorkerService: Service, Sendable {
    public let workerID: String
    let lanes: [WorkerLane]
    let housekeeper: Housekeeper
    let registry: WorkerRegistry
    let shutdownGrace: Duration
    let logger: Logger
    private let stopping = Atomic<Bool>(false)
    private let lanesFinished = Atomic<Bool>(false)

    public struct Lane: Sendable {
        public let source: String
        public let handler: any JobHandler
        public let count: Int

        public init(source: String, handler: any JobHandler, count: Int) {
            self.source = source
            self.handler = handler
            self.count = count
        }
    }

    public init(
        workerID: String = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8))",
        queue: JobQueue, lanes: [Lane], batchSize: Int, blockTimeout: Duration, retryPolicy: RetryPolicy,
        heartbeatTTL: Duration, reaperInterval: Duration, shutdownGrace: Duration, logger: Logger
    ) {
        var logger = logger
        logger[metadataKey: "worker"] = "\(workerID)"
        self.workerID = workerID
        self.logger = logger
        self.shutdownGrace = shutdownGrace
        let metrics = WorkerMetrics()
        let registry = WorkerRegistry(redis: queue.redis, keys: queue.keys)
        self.registry = registry
        // Each lane has its own processing list (and queue identity `<workerId>-<n>`), so after a
        // Redis outage a lane can return exactly what it held, and a reaper recovers lanes one by one.
        var laneNumber = 0
        self.lanes = lanes.flatMap { lane in
            (0..<lane.count).map { _ in
                defer { laneNumber += 1 }
                return WorkerLane(
                    source: lane.source, handler: lane.handler, queue: queue, registry: registry, laneID: "\(workerID)-\(laneNumber)", batchSize: batchSize,
                    blockTimeout: blockTimeout, retryPolicy: retryPolicy, metrics: metrics, logger: logger)
            }
        }
        housekeeper = Housekeeper(
            queue: queue, registry: registry, laneIDs: self.lanes.map(\.laneID), heartbeatTTL: heartbeatTTL,
            reaperInterval: reaperInterval, metrics: metrics, logger: logger)
    }

    public func run() async throws {
        // Register before fetching, so a crash right after the first fetch is already recoverable.
        try? await registry.heartbeat(workerIDs: housekeeper.laneIDs, ttl: housekeeper.heartbeatTTL)
        logger.info("worker started", metadata: ["lanes": "\(lanes.count)"])
        await withGracefulShutdownHandler {
            await runUntilStopped()
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
        }
        do {
            for lane in lanes { try await registry.deregister(workerID: lane.laneID) }
        } catch {
            logger.error("could not hand back held jobs; a reaper will recover them", metadata: ["error": "\(error)"])
        }
        logger.info("worker stopped")
    }

    private enum Finished { case lane, graceOver }

    private func runUntilStopped() async {
        let isStopping: @Sendable () -> Bool = { self.stopping.load(ordering: .relaxed) }
        let lanesDone: @Sendable () -> Bool = { self.lanesFinished.load(ordering: .relaxed) }
        await withTaskGroup(of: Void.self) { outer in
            // The heartbeat goes on until the lanes are done, so no reaper takes jobs still in hand.
            outer.addTask { await self.housekeeper.run(isStopping: lanesDone) }
            await withTaskGroup(of: Finished.self) { group in
                for lane in lanes {
                    group.addTask {
                        await lane.run(isStopping: isStopping)
                        return .lane
                    }
                }
                group.addTask {
                    while !isStopping() && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(100)) }
                    try? await Task.sleep(for: self.shutdownGrace)
                    return .graceOver
                }
                var running = lanes.count
                while let finished = await group.next() {
                    if finished == .graceOver {
                        logger.warning("shutdown grace period over: cancelling in-flight jobs")
                        group.cancelAll()
                        continue
                    }
                    running -= 1
                    if running == 0 { group.cancelAll() }
                }
            }
            lanesFinished.store(true, ordering: .relaxed)
        }
    }
}
