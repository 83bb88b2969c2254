import JobQueue

/// Which shard a lane takes its next batch from (``WorkerLane``): it blocks on its home shard, and
/// after a wait that brought nothing it looks at every shard, home first, without blocking, and
/// keeps looking (home first, then the shard that gave work) until nothing is left. With one
/// shard it is a plain blocking fetch.
///
/// A shard that cannot be reached while the lane looks around (its primary failing over) is
/// skipped: the lane's own shard is the only one whose failure stops it.
struct ShardFetcher: Sendable {
    let home: Int
    let shardCount: Int
    /// The shard that gave work on the last look without blocking; nil while blocking at home.
    private(set) var stealingFrom: Int?
    /// Whether the home wait came back empty: the next fetch looks around.
    private(set) var lookAround = false
    /// Shards whose look failed: a move may have happened without its reply, so what the lane
    /// holds there goes back before it looks there again.
    private(set) var unsure: Set<Int> = []

    init(home: Int, shardCount: Int) {
        self.home = home
        self.shardCount = max(1, shardCount)
    }

    /// The order of shards to look at without blocking: home, the one that last gave work, then
    /// the others after home.
    var lookOrder: [Int] {
        var order = (0..<shardCount).map { (home + $0) % shardCount }
        if let stealingFrom, stealingFrom != home, let index = order.firstIndex(of: stealingFrom) {
            order.remove(at: index)
            order.insert(stealingFrom, at: 1)
        }
        return order
    }

    /// What a fetch brought, and the shards it could not look at.
    struct Fetched: Sendable {
        var jobs: [FetchedJob]
        var failed: [Int] = []
    }

    func fetch(
        _ queue: QueueName, laneID: String, maxBatch: Int, blockTimeout: Duration, driver: any JobQueueDriver
    ) async throws -> Fetched {
        var failed: [Int] = []
        if shardCount > 1 && (lookAround || stealingFrom != nil) {
            for shard in lookOrder where !unsure.contains(shard) {
                let jobs: [FetchedJob]
                do {
                    jobs = try await driver.fetch(from: queue, shard: shard, laneID: laneID, maxBatch: maxBatch, blockTimeout: .zero)
                } catch  where shard != home && !Task.isCancelled {
                    failed.append(shard)
                    continue
                }
                if !jobs.isEmpty { return Fetched(jobs: jobs, failed: failed) }
            }
        }
        let jobs = try await driver.fetch(from: queue, shard: home, laneID: laneID, maxBatch: maxBatch, blockTimeout: blockTimeout)
        return Fetched(jobs: jobs, failed: failed)
    }

    /// Hands back everything the lane holds (after a failure, or at start). Only the home shard's
    /// failure throws; another shard that does not answer is noted as unsure and settled later.
    mutating func returnHeld(laneID: String, driver: any JobQueueDriver) async throws -> Int {
        guard shardCount > 1 else { return try await driver.returnHeld(laneID: laneID) }
        var returned = 0
        for shard in 0..<shardCount {
            do {
                returned += try await driver.returnHeld(laneID: laneID, inShard: shard)
            } catch  where shard != home && !Task.isCancelled {
                unsure.insert(shard)
            }
        }
        return returned
    }

    /// Hands back what the lane may hold in shards whose look failed, for those that answer now.
    mutating func settleUnsure(laneID: String, driver: any JobQueueDriver) async {
        for shard in unsure.sorted() where (try? await driver.returnHeld(laneID: laneID, inShard: shard)) != nil {
            unsure.remove(shard)
        }
    }

    /// Notes what the last fetch brought, to choose the next one's way.
    mutating func took(_ fetched: Fetched) {
        unsure.formUnion(fetched.failed)
        took(fetched.jobs)
    }

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
