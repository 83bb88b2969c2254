import Logging
import Metrics
import RedisClient
import ServiceLifecycle

/// Group commit for webhook pushes: requests that arrive while a round trip is in flight are
/// pipelined together into the next one, so throughput is bounded by HTTP, not by Redis round
/// trips. A request is resumed only with Redis' own reply to its push, which is what makes the
/// ingress' 200 mean "durably on the list".
actor PushBatcher: Service {
    enum Item: Sendable {
        case command(RedisCommand)
        case script(RedisScript, keys: [String], arguments: [[UInt8]])
    }

    private struct Pending {
        let item: Item
        let continuation: CheckedContinuation<RedisReply, any Error>
    }

    private let redis: RedisClient
    private let maxBatch: Int
    private let logger: Logger
    private var pending: [Pending] = []
    private var idle: CheckedContinuation<Void, Never>?
    private var stopping = false
    private let batchSize = Recorder(label: "booxi_tracking_ingress_batch_size", aggregate: true)

    init(redis: RedisClient, maxBatch: Int, logger: Logger) {
        self.redis = redis
        self.maxBatch = maxBatch
        self.logger = logger
    }

    /// Queues `item` for the next round trip and returns its reply (an error reply is returned as
    /// a value); throws the transport error when the round trip failed.
    func submit(_ item: Item) async throws -> RedisReply {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Pending(item: item, continuation: continuation))
            idle?.resume()
            idle = nil
        }
    }

    /// Flushes until shutdown, then flushes what is still pending and returns. The HTTP server stops
    /// before this service (it comes later in the service group), so nothing arrives after that.
    func run() async throws {
        await withGracefulShutdownHandler {
            while true {
                if pending.isEmpty {
                    if stopping { return }
                    await withCheckedContinuation { idle = $0 }
                    continue
                }
                let batch = Array(pending.prefix(maxBatch))
                pending.removeFirst(batch.count)
                await flush(batch)
            }
        } onGracefulShutdown: {
            Task { await self.stop() }
        }
    }

    private func stop() {
        stopping = true
        idle?.resume()
        idle = nil
    }

    private func flush(_ batch: [Pending]) async {
        var pipeline = RedisPipeline()
        for entry in batch {
            switch entry.item {
            case .command(let command): pipeline.append(command)
            case .script(let script, let keys, let arguments): pipeline.append(script, keys: keys, arguments: arguments)
            }
        }
        batchSize.record(batch.count)
        do {
            let replies = try await redis.execute(pipeline)
            for (entry, reply) in zip(batch, replies) { entry.continuation.resume(returning: reply) }
        } catch {
            for entry in batch { entry.continuation.resume(throwing: error) }
        }
    }
}
