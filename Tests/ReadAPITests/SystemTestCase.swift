import AsyncHTTPClient
import BooxiAPI
import BooxiModels
import BooxiSimulator
import Foundation
import HTTPSupport
import Ingress
import JobQueue
import Logging
import NIOCore
import NIOHTTP1
import ReadAPI
import RedisClient
import TestSupport
import Testing
import TrackingConfig
import TrackingCore
import Worker

/// The whole system in one test process: a throwaway Redis, the simulator, the ingress, a worker
/// and the API, each on its own port, talking over real HTTP.
struct SystemTestCase {
    static let apiKey = "sk-partner-secret-for-tests-0123456789"

    let server: RedisServer
    let redis: RedisClient
    let services: BackgroundServices
    let ingressPort: Int
    let apiPort: Int
    /// The API's operations listener (`/readyz`, `/metrics`).
    let opsPort: Int
    let simulatorPort: Int
    let configuration: AppConfiguration
    /// Every role's log lines.
    let logs: LogCapture

    /// Fair use as the simulator enforces it and the scheduler keeps it: above Booxi's figures so
    /// tests run quickly, the same on both sides so any excess shows up as a 429.
    static let fairUse = FairUsePolicy(perSecond: 50, perMinute: 3_000, minSpacingMs: 10)

    /// With `cluster`, every role talks to that Redis Cluster (``server`` is then its first node).
    static func start(
        _ environment: [String: String] = [:], fairUse: FairUsePolicy = fairUse, cluster: RedisClusterServers? = nil
    ) async throws -> SystemTestCase {
        // What RoleRunner does for a real process: metrics reach /metrics only once bootstrapped.
        Observability.bootstrap(role: "test")
        let server = try cluster?.nodes[0] ?? RedisServer()
        var redisConfiguration = cluster?.configuration(poolSize: 8) ?? server.configuration(poolSize: 8)
        redisConfiguration.blockingPoolSize = 80
        let redis = RedisClient(configuration: redisConfiguration)
        var base = [
            "BOOXI_PARTNER_API_KEY": apiKey, "BXT_RETRY_BASE_MS": "20", "BXT_RETRY_CAP_MS": "100", "BXT_RETRY_MAX_ATTEMPTS": "5",
            "BXT_WORKER_BLOCK_TIMEOUT_MS": "100", "BXT_API_COMMAND_WAIT_MS": "3000", "BXT_BOOXI_REQUEST_TIMEOUT_MS": "3000",
            "BXT_WEBHOOK_TOKENS": testWebhookToken,
        ]
        if let cluster { base["BXT_REDIS_CLUSTER_SEEDS"] = cluster.seeds.map(\.description).joined(separator: ",") }
        let configuration = try await testConfiguration(redis: server, base.merging(environment) { _, new in new })
        let logs = LogCapture()
        let logger = logs.logger
        let http = HTTPClient.shared

        let ingressBound = BoundPort()
        let ingress = try buildIngressApplication(
            configuration: configuration, redis: redis, logger: logger, onServerRunning: ingressBound.onServerRunning)
        let ingressServices = BackgroundServices([ingress])
        let ingressPort = await ingressBound.value()

        let simulatorBound = BoundPort()
        let simulator = BooxiSimulator(
            settings: .init(
                host: "127.0.0.1", port: 0, apiKey: apiKey, webhookURL: "http://127.0.0.1:\(ingressPort)/webhooks/booxi",
                webhookToken: testWebhookToken,
                seed: try SimulatorSeed.load(path: projectRoot.appendingPathComponent("config/simulator-seed.json").path),
                fairUse: fairUse),
            http: http, logger: logger)
        let simulatorServices = BackgroundServices([simulator.buildApplication(logger: logger, onServerRunning: simulatorBound.onServerRunning)])
        let simulatorPort = await simulatorBound.value()

        let booxi = BooxiClient(
            configuration: .init(
                baseURL: "http://127.0.0.1:\(simulatorPort)/booking/v1", apiKey: Secret(apiKey), requestTimeout: configuration.booxi.requestTimeout,
                maxQueueWait: configuration.booxi.maxQueueWait),
            http: http,
            scheduler: BooxiScheduler(
                redis: redis, keyPrefix: "bxt:", policy: fairUse, requestTimeout: configuration.booxi.requestTimeout, logger: logger),
            logger: logger)
        let mappings = MappingStore(redis: redis, keys: MappingKeys(cluster: redis.isCluster), retentionSeconds: 3600)
        let handler = CommandHandler(
            booxi: booxi, mappings: mappings,
            commands: CommandStore(
                redis: redis, shards: configuration.queueShards, timeline: BookingTimeline(keyPrefix: "bxt:", cluster: redis.isCluster)),
            maxAttempts: configuration.retry.maxAttempts, logger: logger)
        let workerServices = buildWorkerServices(
            configuration: configuration, redis: redis, commandHandler: handler, booxi: booxi, logger: logger, workerID: "system-test")

        let apiBound = BoundPort()
        let api = try buildReadAPIServices(
            configuration: configuration, redis: redis, booxi: booxi, logger: logger, onServerRunning: apiBound.onServerRunning)
        let opsBound = BoundPort()
        let operations = buildOperationsApplication(
            host: "127.0.0.1", port: 0, logger: logger, isReady: { await redis.isReachable() },
            onServerRunning: opsBound.onServerRunning)
        let services = BackgroundServices([booxi.scheduler] + workerServices + api + [operations])
        let apiPort = await apiBound.value()
        let opsPort = await opsBound.value()
        return SystemTestCase(
            server: server, redis: redis, services: .composite([services, simulatorServices, ingressServices]),
            ingressPort: ingressPort, apiPort: apiPort, opsPort: opsPort, simulatorPort: simulatorPort, configuration: configuration, logs: logs)
    }

    struct Reply {
        let status: Int
        let body: String
        let headers: HTTPHeaders
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    }

    func request(_ port: Int, _ method: HTTPMethod, _ path: String, json: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        let body = String(buffer: try await response.body.collect(upTo: 4 << 20))
        return Reply(status: Int(response.status.code), body: body, headers: response.headers)
    }

    func api(_ method: HTTPMethod, _ path: String, json: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        try await request(apiPort, method, path, json: json, headers: headers)
    }

    func api(_ path: String) async throws -> Reply {
        try await request(apiPort, .GET, path)
    }

    func simulator(_ method: HTTPMethod, _ path: String, _ json: String? = nil) async throws -> Reply {
        try await request(simulatorPort, method, "/simulator/\(path)", json: json)
    }

    /// Creates a booking in the simulator (which sends `booking.confirmed` through the ingress) and
    /// waits until its code resolves; returns the code.
    func book(serviceID: Int = 100, daysAhead: Int = 3, hour: Int = 10) async throws -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = calendar.startOfDay(for: Date().addingTimeInterval(Double(daysAhead) * 86_400)).addingTimeInterval(Double(hour) * 3600)
        let reply = try await simulator(
            .POST, "bookings", #"{"serviceId":\#(serviceID),"startsOn":"\#(ISO8601.format(start))","firstName":"Ana","lastName":"Lima"}"#)
        let code = try #require(reply.json["trackingCode"] as? String)
        try await waitUntil { try await api("/api/tracking/\(code)").status == 200 }
        return code
    }

    func waitUntil(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw SystemTestError.timedOut
    }

    /// The simulator's fair-use report (`refused` are its 429s).
    func fairUse() async throws -> [String: Any] {
        try await simulator(.GET, "fair-use").json
    }

    /// The record the API reads for a code.
    func bookingID(of code: String) async throws -> String {
        try await redis.send("GET", MappingKeys(cluster: redis.isCluster).code(TrackingCode(code)!)).string ?? ""
    }

    func bookingCalls() async throws -> Int {
        (try await simulator(.GET, "calls").json["GET /booking/{id}"] as? Int) ?? 0
    }

    /// Lookups the API answered from its memory so far (its `/metrics`; counts of every test in
    /// this process, so compare differences).
    func lookupCacheHits() async throws -> Int {
        let metrics = try await self.metrics()
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("booxi_tracking_api_lookup_cache_total{result=\"hit\"}") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) } ?? 0
    }

    /// The API's `/metrics` (the process' metrics: every role of the test runs in it).
    func metrics() async throws -> String {
        try await request(opsPort, .GET, "/metrics").body
    }

    /// How often Redis ran `command` since the last `CONFIG RESETSTAT`.
    func redisCalls(_ command: String) async throws -> Int {
        let info = try await redis.send("INFO", "commandstats").string ?? ""
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_\(command):calls=") }
        return line.flatMap { Int($0.dropFirst("cmdstat_\(command):calls=".count).prefix { $0.isNumber }) } ?? 0
    }

    func finish() async {
        await services.stop()
        await redis.shutdown()
        server.stop()
    }
}

enum SystemTestError: Error { case timedOut }
