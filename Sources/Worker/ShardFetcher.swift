import JobQueue

/// Which shard a lane takes its next batch from (``WorkerLane``): it blocks on its home shard, and
/// after a wait that brought nothing it looks at every shard, home first, without blocking, and
/// stays on a shard that gave work until it runs dry. With one shard it is a plain blocking fetch.
struct ShardFetcher: Sendable {
    let home: Int
    let shardCount: Int
    /// The shard that gave work on the last look without blocking; nil while blocking at home.
    private(set) var stealingFrom: Int?
    /// Whether the home wait came back empty: the next fetch looks around.
    private(set) var lookAround = false

    init(home: Int, shardCount: Int) {
        self.home = home
        self.shardCount = max(1, shardCount)
    }

    /// The order of shards to look at without blocking: the one that last gave work, home, then
    /// the others after home.
    var lookOrder: [Int] {
        var order = (0..<shardCount).map { (home + $0) % shardCount }
        if let stealingFrom, let index = order.firstIndex(of: stealingFrom) {
            order.remove(at: index)
            order.insert(stealingFrom, at: 0)
        }
        return order
    }

    func fetch(
        _ queue: QueueName, laneID: String, maxBatch: Int, blockTimeout: Duration, driver: any JobQueueDriver
    ) async throws -> [FetchedJob] {
        if shardCount > 1 && (lookAround || stealingFrom != nil) {
            for shard in lookOrder {
                let jobs = try await driver.fetch(from: queue, shard: shard, laneID: laneID, maxBatch: maxBatch, blockTimeout: .zero)
                if !jobs.isEmpty { return jobs }
            }
        }
        return try await driver.fetch(from: queue, shard: home, laneID: laneID, maxBatch: maxBatch, blockTimeout: blockTimeout)
    }

    /// Notes what the last fetch brought, to choose the next one's way.
    mutating func took(_ jobs: [FetchedJob]) {
        guard shardCount > 1 else { return }
        if let shard = jobs.first?.shard {
            stealingFrom = shard == home ? nil : shard
            lookAround = false
        } else {
            // A whole wait at home brought nothing (and the look around before it, if any): look
            // around first next time. Idle, that costs one non-blocking look per shard per wait.
            stealingFrom = nil
            lookAround = true
        }
    }
}
