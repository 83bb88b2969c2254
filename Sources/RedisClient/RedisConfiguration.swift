import Foundation

/// Where and how to connect: parsed from `redis://[user:pass@]host:port/db` or
/// `unix:///path/to/redis.sock?db=N` (user and password as for TCP).
public struct RedisConfiguration: Sendable, Hashable {
    public enum Endpoint: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)
    }

    /// TLS settings: every connection is TLS when set (a `rediss://` URL sets it).
    public struct TLS: Sendable, Hashable {
        public enum Verification: String, Sendable, Hashable, CaseIterable {
            /// The chain up to a trusted CA, and the host name (the default).
            case full
            /// The chain only (a certificate issued for another name, e.g. behind an IP address).
            case chain
            /// Nothing: encryption without authentication of the server. Tests and emergencies only.
            case none
        }

        /// PEM file of the CA(s) to trust; nil: the system's trust store.
        public var caFile: String?
        /// PEM client certificate and key, for servers that require them (mutual TLS).
        public var certFile: String?
        public var keyFile: String?
        /// The name the server's certificate must carry (SNI too); nil: the host connected to.
        public var serverName: String?
        public var verify: Verification

        public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, serverName: String? = nil, verify: Verification = .full) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.serverName = serverName
            self.verify = verify
        }
    }

    /// Redis Sentinel: the primary is found through the sentinels and followed across failovers;
    /// ``endpoint`` is then only a placeholder.
    public struct Sentinel: Sendable, Hashable {
        public var sentinels: [Endpoint]
        /// The name the sentinels monitor the primary under.
        public var masterName: String
        /// Password of the sentinels themselves (`requirepass` in sentinel.conf), if any.
        public var password: Secret?

        public init(sentinels: [Endpoint], masterName: String, password: Secret? = nil) {
            self.sentinels = sentinels
            self.masterName = masterName
            self.password = password
        }
    }

    /// Redis Cluster: the slot map is learnt from the seeds and followed (``RedisCluster``);
    /// ``endpoint`` is then only a placeholder.
    public struct Cluster: Sendable, Hashable {
        /// Nodes to ask for the slot map first; any node of the cluster will do, one is enough.
        public var seeds: [Endpoint]

        public init(seeds: [Endpoint]) {
            self.seeds = seeds
        }
    }

    public var endpoint: Endpoint
    public var tls: TLS?
    public var sentinel: Sentinel?
    public var cluster: Cluster?
    public var username: String?
    public var password: Secret?
    public var database: Int
    public var connectTimeout: Duration
    public var commandTimeout: Duration
    /// Connections in the shared pool (and threads that run their blocking I/O).
    public var poolSize: Int
    /// Connections reserved for blocking commands (BLMOVE, BLPOP), never shared with others.
    public var blockingPoolSize: Int
    /// How long a caller waits for a free pooled connection before ``RedisError/timeout(_:)``.
    public var poolWaitTimeout: Duration
    /// A connection idle longer than this is checked with `PING` before it is handed out.
    public var healthCheckInterval: Duration

    public init(
        endpoint: Endpoint = .tcp(host: "127.0.0.1", port: 6379),
        username: String? = nil,
        password: Secret? = nil,
        database: Int = 0,
        connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(2),
        poolSize: Int = 8,
        blockingPoolSize: Int = 4,
        poolWaitTimeout: Duration = .seconds(2),
        healthCheckInterval: Duration = .seconds(30)
    ) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.poolSize = poolSize
        self.blockingPoolSize = blockingPoolSize
        self.poolWaitTimeout = poolWaitTimeout
        self.healthCheckInterval = healthCheckInterval
    }

    public enum URLError: Error, Equatable, CustomStringConvertible {
        case invalid(String)
        public var description: String {
            switch self {
            case .invalid(let why): "invalid Redis URL: \(why)"
            }
        }
    }

    /// Parses a Redis URL. Credentials never appear in the error text.
    public init(url: String) throws {
        self.init()
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw URLError.invalid("expected redis://[user:pass@]host:port/db, rediss://… (TLS) or unix:///path")
        }
        username = components.user.flatMap { $0.isEmpty ? nil : $0.removingPercentEncoding }
        password = components.password.flatMap { $0.removingPercentEncoding }.map { Secret($0) }
        if let onlyName = username, password == nil {
            // `redis://secret@host` is the common password-only form.
            password = Secret(onlyName)
            username = nil
        }
        switch scheme {
        case "redis", "rediss":
            guard let host = components.host, !host.isEmpty else { throw URLError.invalid("missing host") }
            let port = components.port ?? 6379
            guard (1...65535).contains(port) else { throw URLError.invalid("port out of range") }
            endpoint = .tcp(host: host, port: port)
            if scheme == "rediss" { tls = TLS() }
            let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            if !path.isEmpty {
                guard let db = Int(path), db >= 0 else { throw URLError.invalid("database must be a number") }
                database = db
            }
        case "unix", "redis+unix":
            guard !components.path.isEmpty else { throw URLError.invalid("missing socket path") }
            endpoint = .unixSocket(path: components.path)
        default:
            throw URLError.invalid("unsupported scheme '\(scheme)'")
        }
        if let db = components.queryItems?.first(where: { $0.name == "db" })?.value {
            guard let number = Int(db), number >= 0 else { throw URLError.invalid("database must be a number") }
            database = number
        }
    }

    /// The endpoint without credentials, safe for logs and errors.
    public var displayAddress: String {
        if let sentinel { return "sentinel:\(sentinel.masterName)/\(database)" }
        if let cluster { return "cluster:" + cluster.seeds.map { $0.display(tls: tls != nil) }.joined(separator: ",") }
        return endpoint.display(tls: tls != nil) + "/\(database)"
    }
}

extension RedisConfiguration.Endpoint: CustomStringConvertible {
    /// `host:port` (`tls:host:port` over TLS) or `unix:path`, for logs and errors.
    func display(tls: Bool) -> String {
        switch self {
        case .tcp(let host, let port): (tls ? "tls:" : "") + "\(host):\(port)"
        case .unixSocket(let path): "unix:\(path)"
        }
    }

    public var description: String { display(tls: false) }

    /// Parses `host:port` (a sentinel's address).
    public init?(hostPort text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            return nil
        }
        let host = String(text[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty else { return nil }
        self = .tcp(host: host, port: port)
    }
}
