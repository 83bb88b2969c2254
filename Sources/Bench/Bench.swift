import ArgumentParser
import AsyncHTTPClient
import BooxiModels
import Foundation
import Hummingbird
import JobQueue
import NIOCore
import RedisClient
import TrackingCore

/// Measurement helpers that scripts/bench.sh drives; each prints `key=value` lines.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "booxi-tracking-bench",
        abstract: "Measurements for scripts/bench.sh.",
        subcommands: [RedisBench.self, BareServer.self, Preload.self, SeedCodes.self, CancelLatency.self, EndToEndLatency.self])
}

/// The Redis at `url`, or with `BXT_REDIS_CLUSTER_SEEDS` (`host:port,…`) the Cluster they name
/// (the URL then gives only credentials and TLS), as the roles read them.
func benchRedis(url: String) throws -> RedisClient {
    var configuration = try RedisConfiguration(url: url)
    let seeds = (ProcessInfo.processInfo.environment["BXT_REDIS_CLUSTER_SEEDS"] ?? "").split(separator: ",")
    if !seeds.isEmpty { configuration.cluster = .init(seeds: seeds.compactMap { RedisConfiguration.Endpoint(hostPort: String($0)) }) }
    return RedisClient(configuration: configuration)
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

struct RedisBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "redis", abstract: "Pipelined LPUSH throughput and single-command latency.")
    @Option var url: String
    @Option var count = 400_000
    @Option var depth = 32
    @Option(help: "Callers sending pipelines at once (redis-benchmark's default is 50 clients).") var concurrency = 50
    @Option(help: "Pooled connections (default: the configuration's default).") var pool: Int?
    @Option(help: "With a rediss:// URL: the CA that signs the server's certificate.") var tlsCaFile: String?

    func run() async throws {
        var configuration = try RedisConfiguration(url: url)
        if let pool { configuration.poolSize = pool }
        if let tlsCaFile { configuration.tls?.caFile = tlsCaFile }
        let redis = RedisClient(configuration: configuration)
        let value = Array(repeating: UInt8(ascii: "x"), count: 3)
        let perTask = count / concurrency
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var sent = 0
                    while sent < perTask {
                        var pipeline = RedisPipeline()
                        for _ in 0..<depth { pipeline.append("LPUSH", "bench:list", value) }
                        _ = try await redis.execute(pipeline)
                        sent += depth
                    }
                }
            }
            try await group.waitForAll()
        }
        print("pipelined_ops_per_sec=\(Int(Double(perTask * concurrency) / (ContinuousClock.now - started).seconds))")
        var latencies: [Double] = []
        for _ in 0..<20_000 {
            let start = ContinuousClock.now
            try await redis.send("LPUSH", "bench:single", value)
            latencies.append((ContinuousClock.now - start).seconds * 1000)
        }
        latencies.sort()
        print("single_p50_ms=\(percentile(latencies, 0.5))")
        print("single_p99_ms=\(percentile(latencies, 0.99))")
        try await redis.send("DEL", "bench:list", "bench:single")
        await redis.shutdown()
    }
}

struct BareServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bare-server", abstract: "A Hummingbird route that reads the body and answers 200.")
    @Option var port: Int

    func run() async throws {
        let router = Router()
        router.post("/webhooks/booxi") { request, _ -> Response in
            var request = request
            _ = try await request.collectBody(upTo: 256 * 1024)
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}

struct Preload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "preload", abstract: "Push N booking.confirmed envelopes for distinct bookings.")
    @Option var url: String
    @Option var count = 200_000
    @Option(help: "queue.shards of the workers that will drain them")
    var shards = 1

    func run() async throws {
        let redis = try benchRedis(url: url)
        let queue = JobQueue(redis: redis, shards: QueueShards(count: shards))
        for chunk in stride(from: 0, to: count, by: 5_000) {
            var pipeline = RedisPipeline()
            for index in chunk..<min(chunk + 5_000, count) {
                let body =
                    #"{"event":"booking.confirmed","booking":{"confirmationNumber":"P\#(index)","status":"Approved","client":{"firstName":"F","lastName":"L","trackingPage":{"viewURL":"https://book.booxi.com/tracking/preload\#(index)"}}}}"#
                queue.appendPush(JobEnvelope(kind: .webhook, payload: body), forBooking: "P\(index)", to: &pipeline)
            }
            _ = try await redis.execute(pipeline)
        }
        await redis.shutdown()
    }
}

struct SeedCodes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "seed-codes", abstract: "N resolvable codes with a fresh cached booking.")
    @Option var url: String
    @Option var count = 10_000

    func run() async throws {
        let redis = try benchRedis(url: url)
        let store = MappingStore(redis: redis, keys: MappingKeys(cluster: redis.isCluster), retentionSeconds: 86_400)
        let start = Date().addingTimeInterval(7 * 86_400)
        for chunk in stride(from: 0, to: count, by: 1_000) {
            let events = (chunk..<min(chunk + 1_000, count)).map { index in
                MappingStore.Delivery(
                    WebhookEvent(
                        eventType: .confirmed, bookingID: "S\(index)", trackingCode: TrackingCode("benchcode\(index)")!, status: "Approved",
                        eventTime: nil),
                    receivedAt: JobEnvelope.nowMilliseconds())
            }
            _ = try await store.apply(events)
            for index in chunk..<min(chunk + 1_000, count) {
                let json =
                    #"{"bookingId":"S\#(index)","status":"Approved","isCompleted":false,"startsOn":"\#(start.formatted(.iso8601))","totalClientTimespan":{"start":"\#(start.formatted(.iso8601))","end":"\#(start.addingTimeInterval(1800).formatted(.iso8601))","duration":30},"items":[{"serviceId":100,"serviceName":"Haircut","duration":30}],"client":{"firstName":"Jane","lastName":"Doe"}}"#
                try await store.storeBooking(
                    bookingID: "S\(index)", booking: try Booking.decode(Array(json.utf8)), status: nil, endsAt: start.addingTimeInterval(1800))
            }
        }
        await redis.shutdown()
    }
}

struct CancelLatency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel-latency", abstract: "Book N appointments in the simulator, then time each cancel through the API.")
    @Option var api: String
    @Option var simulator: String
    @Option var count = 50

    func run() async throws {
        let http = HTTPClient.shared
        var codes: [String] = []
        for index in 0..<count {
            var request = HTTPClientRequest(url: simulator + "/simulator/bookings")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            let start = Date().addingTimeInterval(Double(2 + index / 16) * 86_400)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let slot = calendar.startOfDay(for: start).addingTimeInterval(Double(9 * 3600 + (index % 16) * 1800))
            request.body = .bytes(ByteBuffer(string: #"{"serviceId":102,"startsOn":"\#(slot.formatted(.iso8601))"}"#))
            let response = try await http.execute(request, timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 1 << 20)
            if let json = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any], let code = json["trackingCode"] as? String {
                codes.append(code)
            }
        }
        for code in codes {
            for _ in 0..<200 {
                let response = try await http.execute(HTTPClientRequest(url: api + "/api/tracking/\(code)"), timeout: .seconds(5))
                _ = try await response.body.collect(upTo: 1 << 20)
                if response.status == .ok { break }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        var latencies: [Double] = []
        var ok = 0
        for code in codes {
            var request = HTTPClientRequest(url: api + "/api/tracking/\(code)/cancel")
            request.method = .POST
            let started = ContinuousClock.now
            let response = try await http.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            latencies.append((ContinuousClock.now - started).seconds * 1000)
            if response.status == .ok { ok += 1 }
        }
        latencies.sort()
        print("cancels=\(codes.count) ok=\(ok)")
        print("cancel_p50_ms=\(percentile(latencies, 0.5))")
        print("cancel_p99_ms=\(percentile(latencies, 0.99))")
    }
}

/// Webhooks at a fixed rate through the ingress; for each, the time until its code resolves in
/// Redis (the worker applied it).
struct EndToEndLatency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "e2e-latency", abstract: "Webhook sent → mapping visible, at a fixed rate.")
    @Option var ingress: String
    @Option var url: String
    @Option var rate = 2_000
    @Option var seconds = 5

    actor Pending {
        var sent: [String: ContinuousClock.Instant] = [:]
        var latencies: [Double] = []
        func add(_ code: String, _ at: ContinuousClock.Instant) { sent[code] = at }
        func oldest(_ n: Int) -> [String] { Array(sent.keys.prefix(n)) }
        func seen(_ code: String, _ at: ContinuousClock.Instant) {
            if let start = sent.removeValue(forKey: code) { latencies.append((at - start).seconds * 1000) }
        }
        var count: Int { sent.count }
    }

    func run() async throws {
        let redis = try benchRedis(url: url)
        let keys = MappingKeys(cluster: redis.isCluster)
        let pending = Pending()
        let total = rate * seconds
        let start = ContinuousClock.now
        let run = UUID().uuidString.prefix(6)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Monitor: pipelined reads over the codes still pending, every millisecond. A code key
                // is there once its apply is (on one primary), or at its claim (per booking on a
                // Cluster, before the record names it): the record's code is what is waited for.
                let deadline = start + .seconds(seconds + 10)
                while ContinuousClock.now < deadline {
                    let codes = await pending.oldest(500)
                    if codes.isEmpty && ContinuousClock.now > start + .seconds(seconds) { return }
                    if !codes.isEmpty {
                        var pipeline = RedisPipeline()
                        for code in codes { pipeline.append("HGET", keys.booking("E" + (code.split(separator: "x").last ?? "")), "code") }
                        let replies = try await redis.execute(pipeline)
                        let now = ContinuousClock.now
                        for (code, reply) in zip(codes, replies) where reply.string == code { await pending.seen(code, now) }
                    }
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            for index in 0..<total {
                let due = start + .microseconds(Int64(index) * 1_000_000 / Int64(rate))
                if due > ContinuousClock.now { try await Task.sleep(until: due) }
                let code = "e2e\(run)x\(index)"
                await pending.add(code, ContinuousClock.now)
                group.addTask {
                    var request = HTTPClientRequest(url: ingress + "/webhooks/booxi")
                    request.method = .POST
                    request.headers.add(name: "content-type", value: "application/json")
                    request.body = .bytes(
                        ByteBuffer(
                            string:
                                #"{"event":"booking.confirmed","booking":{"confirmationNumber":"E\#(index)","status":"Approved","client":{"firstName":"F","trackingPage":{"viewURL":"https://book.booxi.com/tracking/\#(code)"}}}}"#
                        ))
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                    _ = try await response.body.collect(upTo: 1 << 16)
                }
            }
            try await group.waitForAll()
        }
        let latencies = await pending.latencies.sorted()
        print("e2e_sent=\(total) e2e_visible=\(latencies.count) lost=\(await pending.count)")
        print("e2e_p50_ms=\(percentile(latencies, 0.5))")
        print("e2e_p99_ms=\(percentile(latencies, 0.99))")
        await redis.shutdown()
    }
}
