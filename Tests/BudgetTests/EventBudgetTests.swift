import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingress
import JobQueue
import Logging
import NIOCore
import RedisClient
import TestSupport
import Testing
import TrackingCore
@testable import Worker

/// What one event costs Redis, counted by the server (`INFO commandstats`, a script's own commands
/// included), with a fixed load shape: one event at a time, each sent once the worker waits for
/// work, so nothing is batched. Counts are deterministic, so the budgets are held exactly as
/// docs/scaling.md#per-event-budget states them; the bench prints the same figures with a
/// concurrent shape too.
@Suite("Per-event budget: Redis commands per webhook, ingress and worker together", .serialized)
struct EventBudgetTests {
    /// Ingress and worker together, per webhook, without the prefetch it may ask for (that is part
    /// of a Booxi call's budget).
    static let commandsPerWebhook = 12.0

    /// The commands of a prefetch request in the apply script (`requestFetch` and the bell); no
    /// other step of a webhook without the booking's details sends these.
    static func prefetchRequests(_ spent: CommandCounts) -> Int {
        spent["zscore"] + spent["zadd"] + spent["zrem"] + 2 * spent["ltrim"]
    }

    /// On one primary, and on a 3-primary Redis Cluster, where the mappings take their per-booking
    /// layout and an event its steps (docs/scaling.md#keys-on-a-cluster): the counts are the sums
    /// over the primaries. With three queue shards (one per primary) a lane waits on each, and an
    /// event costs what it costs with one.
    @Test(arguments: [(false, 1), (true, 1), (true, 3)])
    func aWebhookCostsAtMost12CommandsFromTheIngressToTheWorkersAcknowledgement(onACluster: Bool, queueShards: Int) async throws {
        let cluster = onACluster ? try RedisClusterServers() : nil
        let server = try cluster?.nodes[0] ?? RedisServer()
        defer { cluster?.stop() ?? server.stop() }
        try await cluster?.waitUntilHealthy()
        let redis = RedisClient(configuration: cluster?.configuration() ?? server.configuration())
        var environment = ["BXT_WEBHOOK_TOKENS": testWebhookToken]
        if let cluster { environment["BXT_REDIS_CLUSTER_SEEDS"] = cluster.seeds.map(\.description).joined(separator: ",") }
        environment["BXT_QUEUE_SHARDS"] = "\(queueShards)"
        let configuration = try await testConfiguration(redis: server, environment)
        let app = try buildIngressApplication(configuration: configuration, redis: redis, logger: Logger(label: "test.ingress"))
        let queue = JobQueue(redis: redis, shards: configuration.queueShards)
        let mappings = MappingStore(redis: redis, keys: MappingKeys(cluster: onACluster), retentionSeconds: 3600)
        // The queue shards' primaries, where the lanes wait in BLMOVE.
        var queueServers: [Int: RedisServer] = [:]
        for keys in configuration.queueShards.all {
            let primary = try await cluster?.primary(of: keys.webhooks) ?? server
            queueServers[primary.port] = primary
        }
        let queueNodes = queueServers.values.map { RedisClient(configuration: $0.configuration()) }
        @Sendable func blockedLanes() async throws -> Int {
            var blocked = 0
            for node in queueNodes { blocked += Int(try await node.info("clients")["blocked_clients"] ?? "0") ?? 0 }
            return blocked
        }
        let counts: @Sendable () async throws -> CommandCounts = { try await CommandCounts.read(redis, everyPrimaryOf: cluster) }
        // One lane per shard, no housekeeper and no fetcher: nothing runs on a timer while the counts are read.
        let lanes = (0..<queueShards).map { shard in
            WorkerLane(
                queue: .webhooks, handler: WebhookHandler(mappings: mappings, logger: Logger(label: "test")), driver: queue,
                laneID: "budget-\(shard + 1)", home: shard, batchSize: 16, blockTimeout: .seconds(60), retryPolicy: RetryPolicy(),
                metrics: WorkerMetrics(kinds: ["webhook"]), logger: Logger(label: "test.lane"))
        }
        let worker = Task {
            await withTaskGroup(of: Void.self) { group in for lane in lanes { group.addTask { await lane.run() } } }
        }

        try await app.test(.live) { client in
            var acknowledged = try await counts()["lrem"]
            func deliver(_ event: String, booking: Int, code: String, at time: Int64) async throws {
                // Sent once the lane waits in BLMOVE, so the job comes alone.
                try await Self.waitUntil { try await blockedLanes() == queueShards }
                var headers = HTTPFields()
                headers[.contentType] = "application/json"
                headers[HTTPField.Name("x-webhook-token")!] = testWebhookToken
                headers[HTTPField.Name("webhook-id")!] = "evt-\(event)-\(booking)"
                let body = webhookBody(event, booking: "B\(booking)", code: code, eventTime: time)
                let response = try await client.execute(uri: "/webhooks/booxi", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(response.status == .ok)
                acknowledged += 1
                try await Self.waitUntil { try await counts()["lrem"] == acknowledged }
            }
            /// A booking's life as Booxi reports it: confirmed, modified, cancelled.
            func lifeOf(_ booking: Int) async throws {
                // Event times carry whole seconds: a second apart, each event is news.
                let time: Int64 = 1_700_000_000_000 + Int64(booking) * 10_000
                let code = "budgetcode\(booking)"
                try await deliver("booking.confirmed", booking: booking, code: code, at: time)
                try await deliver("booking.modified", booking: booking, code: code, at: time + 1000)
                try await deliver("booking.cancelled", booking: booking, code: code, at: time + 2000)
            }
            // Scripts loaded, connections open.
            // Every queue shard's primary has seen the push script: a script's first run on a node
            // costs a `NOSCRIPT` and a load, which is not an event's cost.
            var warmUp = 5
            while Set((0..<warmUp).map { configuration.queueShards.forBooking("B\($0)").shard }).count < queueShards { warmUp += 1 }
            for booking in 0..<warmUp { try await lifeOf(booking) }

            let before = try await counts()
            let bookings = onACluster ? 200 : 400
            for booking in warmUp..<(warmUp + bookings) { try await lifeOf(booking) }
            let spent = try await counts() - before
            let webhooks = 3 * bookings

            // On a cluster a prefetch request is a script of its own (in the fetch queues' slot):
            // one `EVALSHA` per `ZADD`, part of the request, not of the webhook.
            let prefetches = Self.prefetchRequests(spent) + (onACluster ? spent["zadd"] : 0)
            let perWebhook = Double(spent.total - prefetches) / Double(webhooks)
            #expect(perWebhook <= Self.commandsPerWebhook, "\(perWebhook) commands per webhook: \(spent)")
            guard !onACluster else {
                // The steps' shape: the push's and the claim's `SET` per event, no code key read,
                // the push's and the record's scripts, and a prefetch's own script for the confirm
                // and the modify. These events carry no end, so each moves the expiries: the
                // record's, and the code key's where the claim found it held.
                #expect(spent["set"] == 2 * webhooks && spent["get"] == 0 && spent["evalsha"] == 2 * webhooks + spent["zadd"], "\(spent)")
                #expect(spent["expireat"] == webhooks + 2 * bookings, "\(spent)")
                print("budget on a cluster, \(queueShards) queue shard(s): \(perWebhook) commands per webhook; \(spent)")
                return
            }
            // The shape behind the figure: two scripts (the push, the apply), one fetch, one count,
            // one acknowledgement, one record read and one write each; a code key read only when
            // the code is new to its booking.
            // (A BLMOVE that waited its whole timeout between two webhooks counts one more; the one
            // waiting when the counts are read may fall on either side of the line.)
            #expect(spent["evalsha"] == 2 * webhooks && spent["llen"] == webhooks, "\(spent)")
            #expect(spent["blmove"] >= webhooks - 1 && spent["blmove"] <= webhooks + 3, "\(spent)")
            #expect(spent["lrem"] == webhooks && spent["hmget"] == webhooks && spent["hset"] == webhooks, "\(spent)")
            #expect(spent["get"] == bookings && spent["xadd"] == 0 && spent["lmove"] == 0, "\(spent)")
            // The bell rings only for a prefetch that was queued: once per booking (the modify finds it queued).
            #expect(spent["ltrim"] == bookings, "\(spent)")
            print("budget: \(perWebhook) commands per webhook; with prefetch requests \(Double(spent.total) / Double(webhooks)); \(spent)")
        }
        worker.cancel()
        _ = await worker.value
        for node in queueNodes { await node.shutdown() }
        await redis.shutdown()
    }

    static func waitUntil(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("condition not met in 10 s")
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }
}
