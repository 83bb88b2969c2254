import Logging
import Configuration
import Foundation
import JobQueue
import RedisClient
import SystemPackage

/// Everything a role needs, read once at start and validated: `config/default.json` <
/// `--config FILE` < environment (`BXT_*`) < secrets (`BOOXI_PARTNER_API_KEY`, ...).
public struct AppConfiguration: Sendable {
    public var redis: RedisConfiguration
    public var keyPrefix: String
    /// `queue.shards`: the queues' keys, spread over this many hash tags.
    public var queueShards: QueueShards
    public var logLevel: Logger.Level
    public var ingress: IngressSettings
    public var worker: WorkerSettings
    public var retry: RetrySettings
    public var api: APISettings
    public var booxi: BooxiSettings
    public var simulator: SimulatorSettings
    public var page: PageSettings
    public var secrets: Secrets
    public var console: ConsoleSettings

    /// Where the defaults live unless `BXT_DEFAULTS_FILE` names another file.
    public static let defaultsPath = "config/default.json"

    public static func load(
        overrideFile: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> AppConfiguration {
        let defaultsPath = environment["BXT_DEFAULTS_FILE"] ?? defaultsPath
        var providers: [any ConfigProvider] = [
            try Secrets.provider(environment: environment),
            EnvironmentVariablesProvider(environmentVariables: environment.filter { $0.key.hasPrefix("BXT_") })
                .prefixKeys(with: ConfigKey(EnvironmentName.prefix.lowercased())),
        ]
        if let overrideFile {
            providers.append(try await jsonFile(overrideFile, key: "--config"))
        }
        providers.append(try await jsonFile(defaultsPath, key: "BXT_DEFAULTS_FILE"))
        var configuration = try AppConfiguration(settings: SettingsReader(reader: ConfigReader(providers: providers)))
        configuration.page.shippedMessagesDirectory = PageSettings.shippedMessagesDirectory(besideDefaults: defaultsPath)
        return configuration
    }

    public init(settings: SettingsReader) throws {
        var redis = try RedisConfiguration.fromURL(settings.secretAwareRedisURL())
        redis.poolSize = try settings.int("redis.poolSize", in: 1...256)
        redis.blockingPoolSize = try settings.int("redis.blockingPoolSize", in: 1...256)
        redis.connectTimeout = try settings.milliseconds("redis.connectTimeoutMs", in: 1...60_000)
        redis.commandTimeout = try settings.milliseconds("redis.commandTimeoutMs", in: 1...60_000)
        redis.poolWaitTimeout = try settings.milliseconds("redis.poolWaitTimeoutMs", in: 1...60_000)
        try redis.readTLS(settings)
        try redis.readSentinel(settings)
        try redis.readCluster(settings)
        try SecretStrength.notPlaceholder(redis.password, key: "redis.url")
        try SecretStrength.notPlaceholder(redis.sentinel?.password, key: "redis.sentinelPassword")
        self.redis = redis
        keyPrefix = try settings.string("redis.keyPrefix")
        queueShards = QueueShards(prefix: keyPrefix, count: try settings.int("queue.shards", in: 1...QueueShards.maxCount))
        logLevel = try settings.choice("log.level")
        console = try ConsoleSettings(settings: settings)
        secrets = try Secrets(settings: settings)
        ingress = try IngressSettings(settings: settings)
        worker = try WorkerSettings(settings: settings)
        retry = try RetrySettings(settings: settings)
        api = try APISettings(settings: settings)
        booxi = try BooxiSettings(settings: settings)
        simulator = try SimulatorSettings(settings: settings)
        page = try PageSettings(settings: settings)
    }

    private static func jsonFile(_ path: String, key: String) async throws -> FileProvider<JSONSnapshot> {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ConfigurationError(key: key, reason: "configuration file '\(path)' not found")
        }
        do {
            return try await FileProvider<JSONSnapshot>(filePath: FilePath(path))
        } catch {
            throw ConfigurationError(key: key, reason: "configuration file '\(path)' is not valid JSON: \(error)")
        }
    }
}

extension SettingsReader {
    /// The Redis URL may carry a password, so it is read as a secret.
    func secretAwareRedisURL() throws -> String {
        guard let url = secret("redis.url") else { throw ConfigurationError(key: "redis.url", reason: "missing value") }
        return url.revealed
    }
}

extension RedisConfiguration {
    static func fromURL(_ url: String) throws -> RedisConfiguration {
        do { return try RedisConfiguration(url: url) } catch {
            throw ConfigurationError(key: "redis.url", reason: "\(error)")
        }
    }
}

extension RedisConfiguration {
    /// `redis.tls.*`: TLS itself is switched on by a `rediss://` URL; the keys say how.
    mutating func readTLS(_ settings: SettingsReader) throws {
        func file(_ key: String) throws -> String? {
            let path = try settings.string(key)
            guard !path.isEmpty else { return nil }
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ConfigurationError(key: key, reason: "cannot read '\(path)'")
            }
            return path
        }
        let caFile = try file("redis.tls.caFile")
        let certFile = try file("redis.tls.certFile")
        let keyFile = try file("redis.tls.keyFile")
        let serverName = try settings.string("redis.tls.serverName")
        let verify: TLS.Verification = try settings.choice("redis.tls.verify")
        if (certFile == nil) != (keyFile == nil) {
            throw ConfigurationError(
                key: certFile == nil ? "redis.tls.certFile" : "redis.tls.keyFile", reason: "a client certificate needs both certFile and keyFile")
        }
        guard tls != nil else {
            if caFile != nil || certFile != nil || !serverName.isEmpty || verify != .full {
                throw ConfigurationError(key: "redis.url", reason: "redis.tls.* is set, but the URL is not rediss:// (TLS)")
            }
            return
        }
        tls = TLS(caFile: caFile, certFile: certFile, keyFile: keyFile, serverName: serverName.isEmpty ? nil : serverName, verify: verify)
    }

    /// `redis.cluster.seeds`: with seeds, the client learns the Cluster's slot map from them; the
    /// URL then gives only TLS and credentials. A Cluster has database 0 only, and no Sentinel.
    mutating func readCluster(_ settings: SettingsReader) throws {
        let addresses = try settings.stringList("redis.cluster.seeds")
        guard !addresses.isEmpty else { return }
        guard sentinel == nil else {
            throw ConfigurationError(
                key: "redis.cluster.seeds", reason: "set redis.cluster.seeds or redis.sentinels, not both (a Cluster fails over without Sentinel)")
        }
        guard case .tcp = endpoint else {
            throw ConfigurationError(key: "redis.cluster.seeds", reason: "a Cluster needs a redis:// or rediss:// URL, not a Unix socket")
        }
        guard database == 0 else {
            throw ConfigurationError(key: "redis.url", reason: "a Redis Cluster has database 0 only; the URL names database \(database)")
        }
        cluster = Cluster(seeds: try Self.endpoints(addresses, key: "redis.cluster.seeds"))
    }

    /// `host:port` addresses (sentinels, Cluster seeds); a malformed one names its key.
    private static func endpoints(_ addresses: [String], key: String) throws -> [Endpoint] {
        try addresses.map { address in
            guard let endpoint = Endpoint(hostPort: address) else { throw ConfigurationError(key: key, reason: "'\(address)' is not host:port") }
            return endpoint
        }
    }

    /// `redis.sentinels`, `redis.sentinelMaster`, `redis.sentinelPassword`: with sentinels, the
    /// primary is found and followed through them; the URL then gives only TLS, credentials and db.
    mutating func readSentinel(_ settings: SettingsReader) throws {
        let addresses = try settings.stringList("redis.sentinels")
        guard !addresses.isEmpty else { return }
        guard case .tcp = endpoint else {
            throw ConfigurationError(key: "redis.sentinels", reason: "Sentinel needs a redis:// or rediss:// URL, not a Unix socket")
        }
        let sentinels = try Self.endpoints(addresses, key: "redis.sentinels")
        let master = try settings.string("redis.sentinelMaster")
        guard !master.isEmpty else { throw ConfigurationError(key: "redis.sentinelMaster", reason: "required with redis.sentinels") }
        sentinel = Sentinel(sentinels: sentinels, masterName: master, password: settings.secret("redis.sentinelPassword"))
    }
}
