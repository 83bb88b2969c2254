import Foundation
import RedisClient
import Testing
import TrackingConfig

@Suite("Configuration: defaults < file < environment < secrets, clear errors")
struct AppConfigurationTests {
    /// The repository's own defaults, wherever the tests run from.
    static let defaults = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config/default.json").path

    func load(_ environment: [String: String] = [:], file: [String: Any]? = nil) async throws -> AppConfiguration {
        var overridePath: String?
        if let file {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("bxt-\(UUID().uuidString).json")
            try JSONSerialization.data(withJSONObject: file).write(to: url)
            overridePath = url.path
        }
        return try await AppConfiguration.load(
            overrideFile: overridePath, environment: environment.merging(["BXT_DEFAULTS_FILE": Self.defaults]) { a, _ in a })
    }

    @Test func defaultsLoad() async throws {
        let config = try await load()
        #expect(config.redis.endpoint == .tcp(host: "127.0.0.1", port: 6379))
        #expect(config.keyPrefix == "bxt:")
        #expect(config.ingress.port == 8081 && config.api.port == 8080)
        #expect(config.retry.maxAttempts == 12)
        #expect(config.booxi.apiKeyHeader == "Booxi-PartnerKey")
        #expect(config.secrets.booxiPartnerAPIKey == nil)
    }

    @Test func environmentBeatsFileBeatsDefaults() async throws {
        let fileOnly = try await load(file: ["redis": ["poolSize": 3], "api": ["port": 9000]])
        #expect(fileOnly.redis.poolSize == 3 && fileOnly.api.port == 9000)

        let both = try await load(
            ["BXT_REDIS_POOL_SIZE": "5", "BXT_REDIS_URL": "redis://:pw@redis.internal:6380/2"],
            file: ["redis": ["poolSize": 3], "api": ["port": 9000]])
        #expect(both.redis.poolSize == 5)
        #expect(both.api.port == 9000)
        #expect(both.redis.endpoint == .tcp(host: "redis.internal", port: 6380))
        #expect(both.redis.database == 2 && both.redis.password == "pw")
    }

    @Test func regionSelectsBooxiBaseURL() async throws {
        #expect(try await load(["BXT_BOOXI_REGION": "na"]).booxi.baseURL == "https://api.booxi.com/booking/v1")
        #expect(try await load(["BXT_BOOXI_REGION": "eu"]).booxi.baseURL == "https://api.booxi.eu/booking/v1")
    }

    @Test func secretsComeFromEnvironmentOrFileAndAreNeverPrinted() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bxt-secret-\(UUID().uuidString)")
        try "key-from-file\n".write(to: file, atomically: true, encoding: .utf8)
        let fromFile = try await load(["BOOXI_PARTNER_API_KEY_FILE": file.path, "BXT_WEBHOOK_TOKENS": "old-token-0123456789, new-token-0123456789"])
        #expect(fromFile.secrets.booxiPartnerAPIKey == "key-from-file")
        #expect(fromFile.secrets.webhookTokens == ["old-token-0123456789", "new-token-0123456789"])
        let printed = "\(fromFile.secrets)"
        #expect(!printed.contains("key-from-file") && !printed.contains("old-token"))

        let fromEnv = try await load(["BOOXI_PARTNER_API_KEY": "key-from-env", "BOOXI_PARTNER_API_KEY_FILE": file.path])
        #expect(fromEnv.secrets.booxiPartnerAPIKey == "key-from-env")

        await #expect(throws: ConfigurationError.self) {
            _ = try await load(["BOOXI_PARTNER_API_KEY_FILE": "/nonexistent/secret"])
        }
    }

    @Test(arguments: [
        (["BXT_REDIS_POOL_SIZE": "many"], "redis.poolSize"),
        (["BXT_REDIS_POOL_SIZE": "0"], "redis.poolSize"),
        (["BXT_API_PORT": "70000"], "api.port"),
        (["BXT_REDIS_URL": "http://nope"], "redis.url"),
        (["BXT_BOOXI_REGION": "mars"], "booxi.region"),
        (["BXT_INGRESS_SIGNATURE_ENCODING": "rot13"], "ingress.signature.encoding"),
        (["BXT_INGRESS_OAUTH_ENABLED": "true"], "secrets.oauthClientSecret"),
    ])
    func badValuesNameTheirKey(environment: [String: String], key: String) async throws {
        do {
            _ = try await load(environment)
            Issue.record("\(environment) was accepted")
        } catch let error as ConfigurationError {
            #expect(error.key == key)
            #expect(error.description.contains(key))
            #expect(error.description.contains(EnvironmentName.of(key)))
        }
    }

    @Test func missingDefaultsFileIsAClearError() async throws {
        do {
            _ = try await AppConfiguration.load(environment: ["BXT_DEFAULTS_FILE": "/nonexistent/default.json"])
            Issue.record("loaded without a defaults file")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("/nonexistent/default.json"))
        }
    }

    @Test func environmentNamesFollowTheKeys() {
        #expect(EnvironmentName.of("redis.poolSize") == "BXT_REDIS_POOL_SIZE")
        #expect(EnvironmentName.of("ingress.dedupe.windowSeconds") == "BXT_INGRESS_DEDUPE_WINDOW_SECONDS")
    }
}

@Suite("Redis anywhere: TLS, Sentinel and replica settings")
struct RedisAnywhereConfigurationTests {
    func load(_ environment: [String: String]) async throws -> AppConfiguration {
        try await AppConfiguration.load(environment: ["BXT_DEFAULTS_FILE": defaultsPath].merging(environment) { $1 })
    }

    var defaultsPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/default.json").path
    }

    @Test func sentinelsAndTheirMasterAndPassword() async throws {
        let configuration = try await load([
            "BXT_REDIS_URL": "redis://:pw@ignored/3", "BXT_REDIS_SENTINELS": "10.0.0.11:26379,10.0.0.12:26379",
            "BXT_REDIS_SENTINEL_MASTER": "bxt-primary", "BXT_REDIS_SENTINEL_PASSWORD": "sentinel-secret",
        ])
        let sentinel = try #require(configuration.redis.sentinel)
        #expect(sentinel.sentinels == [.tcp(host: "10.0.0.11", port: 26379), .tcp(host: "10.0.0.12", port: 26379)])
        #expect(sentinel.masterName == "bxt-primary" && sentinel.password == "sentinel-secret")
        #expect(configuration.redis.password == "pw" && configuration.redis.database == 3)
    }

    @Test func clusterSeeds() async throws {
        let configuration = try await load([
            "BXT_REDIS_URL": "rediss://:pw@ignored/0", "BXT_REDIS_CLUSTER_SEEDS": "10.0.0.21:6379,redis-1.internal:6380",
        ])
        let cluster = try #require(configuration.redis.cluster)
        #expect(cluster.seeds == [.tcp(host: "10.0.0.21", port: 6379), .tcp(host: "redis-1.internal", port: 6380)])
        #expect(configuration.redis.password == "pw" && configuration.redis.tls != nil && configuration.redis.sentinel == nil)
        #expect(configuration.redis.displayAddress == "cluster:tls:10.0.0.21:6379,tls:redis-1.internal:6380")
    }

    @Test(arguments: [
        (
            ["BXT_REDIS_CLUSTER_SEEDS": "10.0.0.21:6379", "BXT_REDIS_SENTINELS": "10.0.0.11:26379", "BXT_REDIS_SENTINEL_MASTER": "m"],
            "redis.cluster.seeds"
        ),
        (["BXT_REDIS_CLUSTER_SEEDS": "10.0.0.21"], "redis.cluster.seeds"),
        (["BXT_REDIS_CLUSTER_SEEDS": "10.0.0.21:6379", "BXT_REDIS_URL": "redis://h/2"], "redis.url"),
        (["BXT_REDIS_CLUSTER_SEEDS": "10.0.0.21:6379", "BXT_REDIS_URL": "unix:///run/redis.sock"], "redis.cluster.seeds"),
        (["BXT_REDIS_SENTINELS": "10.0.0.11:26379"], "redis.sentinelMaster"),
        (["BXT_REDIS_SENTINELS": "not-an-address", "BXT_REDIS_SENTINEL_MASTER": "m"], "redis.sentinels"),
        (["BXT_REDIS_TLS_SERVER_NAME": "x"], "redis.url"),
        (["BXT_REDIS_URL": "rediss://h/0", "BXT_REDIS_TLS_VERIFY": "sometimes"], "redis.tls.verify"),
        (["BXT_REDIS_URL": "rediss://h/0", "BXT_REDIS_TLS_KEY_FILE": "/etc/hostname"], "redis.tls.certFile"),
        (["BXT_INGRESS_REPLICA_ACKS": "1", "BXT_INGRESS_REPLICA_ACK_TIMEOUT_MS": "5000"], "ingress.replicaAckTimeoutMs"),
    ])
    func eachMistakeNamesItsKey(environment: [String: String], key: String) async throws {
        let error = await #expect(throws: ConfigurationError.self) { try await load(environment) }
        #expect(error?.key == key, "\(String(describing: error))")
    }
}
