import Foundation

/// Settings of the `ingress` role.
public struct IngressSettings: Sendable {
    public var host: String
    public var port: Int
    /// The operations listener (`/healthz`, `/readyz`, `/metrics`): loopback by default.
    public var opsHost: String
    public var opsPort: Int
    /// Limits against slow, idle and too many clients on the public listener.
    public var edge: EdgeSettings
    public var path: String
    public var bodyLimitBytes: Int
    public var pushDeadline: Duration
    /// Replicas that must hold a webhook (`WAIT`) before it is acknowledged; 0: the primary alone.
    /// The API's command enqueue follows the same setting.
    public var replicaAcks: Int
    public var replicaAckTimeout: Duration
    public var retryAfterSeconds: Int
    public var dedupeIDField: String
    public var dedupeIDHeader: String
    public var dedupeWindowSeconds: Int
    public var tokenHeader: String
    public var tokenInPath: Bool
    public var signature: SignatureSettings
    public var oauth: OAuthSettings
    public var allowedSources: [String]
    public var trustedProxies: [String]
    /// Accept webhooks with no authentication at all: for a local development set-up only. Without
    /// it, an ingress with no token, signature, OAuth or allow list refuses to start.
    public var allowUnauthenticated: Bool

    init(settings s: SettingsReader) throws {
        host = try s.string("ingress.host")
        port = try s.int("ingress.port", in: 0...65535)
        opsHost = try s.string("ingress.opsHost")
        opsPort = try s.int("ingress.opsPort", in: 0...65535)
        edge = try EdgeSettings(settings: s, role: "ingress")
        path = try s.string("ingress.path")
        guard path.hasPrefix("/") else { throw ConfigurationError(key: "ingress.path", reason: "must start with /") }
        bodyLimitBytes = try s.int("ingress.bodyLimitBytes", in: 1...(64 << 20))
        pushDeadline = try s.milliseconds("ingress.pushDeadlineMs", in: 1...60_000)
        replicaAcks = try s.int("ingress.replicaAcks", in: 0...16)
        replicaAckTimeout = try s.milliseconds("ingress.replicaAckTimeoutMs", in: 1...60_000)
        if replicaAcks > 0 && replicaAckTimeout >= pushDeadline {
            throw ConfigurationError(
                key: "ingress.replicaAckTimeoutMs", reason: "must be shorter than ingress.pushDeadlineMs, which bounds the whole push")
        }
        retryAfterSeconds = try s.int("ingress.retryAfterSeconds", in: 1...3600)
        dedupeIDField = try s.string("ingress.dedupe.idField")
        dedupeIDHeader = try s.string("ingress.dedupe.idHeader")
        dedupeWindowSeconds = try s.int("ingress.dedupe.windowSeconds", in: 1...(90 * 86_400))
        tokenHeader = try s.string("ingress.auth.tokenHeader")
        tokenInPath = try s.bool("ingress.auth.tokenInPath")
        signature = try SignatureSettings(settings: s)
        oauth = try OAuthSettings(settings: s)
        allowedSources = try s.stringList("ingress.allowedSources")
        trustedProxies = try s.stringList("ingress.trustedProxies")
        allowUnauthenticated = try s.bool("ingress.allowUnauthenticated")
    }
}

/// How webhook signatures are checked (docs/architecture.md §5). `preset: standardWebhooks` fixes header names,
/// base64 encoding and `id.timestamp.body` as the signed content.
public struct SignatureSettings: Sendable {
    public enum Preset: String, Sendable, CaseIterable {
        case custom, standardWebhooks
    }
    public enum Encoding: String, Sendable, CaseIterable {
        case hex, base64
    }
    public enum SignedContent: String, Sendable, CaseIterable {
        case body
        case idTimestampBody = "id.timestamp.body"
    }

    public var enabled: Bool
    public var preset: Preset
    public var header: String
    public var encoding: Encoding
    public var signedContent: SignedContent
    public var idHeader: String
    public var timestampHeader: String
    public var toleranceSeconds: Int

    public init(settings s: SettingsReader) throws {
        enabled = try s.bool("ingress.signature.enabled")
        preset = try s.choice("ingress.signature.preset")
        header = try s.string("ingress.signature.header")
        encoding = try s.choice("ingress.signature.encoding")
        signedContent = try s.choice("ingress.signature.signedContent")
        idHeader = try s.string("ingress.signature.idHeader")
        timestampHeader = try s.string("ingress.signature.timestampHeader")
        toleranceSeconds = try s.int("ingress.signature.toleranceSeconds", in: 1...86_400)
    }
}

public struct OAuthSettings: Sendable {
    public var enabled: Bool
    public var clientID: String
    public var tokenPath: String
    public var tokenTTLSeconds: Int

    init(settings s: SettingsReader) throws {
        enabled = try s.bool("ingress.oauth.enabled")
        clientID = try s.string("ingress.oauth.clientId")
        tokenPath = try s.string("ingress.oauth.tokenPath")
        tokenTTLSeconds = try s.int("ingress.oauth.tokenTtlSeconds", in: 1...86_400)
        if enabled, s.secret("secrets.oauthClientSecret") == nil {
            throw ConfigurationError(
                key: "secrets.oauthClientSecret", reason: "required when ingress.oauth.enabled is true (set BXT_OAUTH_CLIENT_SECRET)")
        }
    }
}

/// Settings of the `worker` role.
public struct WorkerSettings: Sendable {
    public var host: String
    public var port: Int
    public var concurrency: Int
    public var batchSize: Int
    public var blockTimeout: Duration
    public var heartbeatTTL: Duration
    public var reaperInterval: Duration
    public var shutdownGrace: Duration
    public var recordRetentionHours: Int
    /// Background fetches (prefetch and refresh) a worker runs at once.
    public var prefetchConcurrency: Int

    init(settings s: SettingsReader) throws {
        host = try s.string("worker.host")
        port = try s.int("worker.port", in: 0...65535)
        concurrency = try s.int("worker.concurrency", in: 1...256)
        batchSize = try s.int("worker.batchSize", in: 1...10_000)
        blockTimeout = try s.milliseconds("worker.blockTimeoutMs", in: 10...60_000)
        heartbeatTTL = try s.milliseconds("worker.heartbeatTtlMs", in: 100...600_000)
        reaperInterval = try s.milliseconds("worker.reaperIntervalMs", in: 100...600_000)
        shutdownGrace = try s.milliseconds("worker.shutdownGraceMs", in: 0...600_000)
        recordRetentionHours = try s.int("worker.recordRetentionHours", in: 1...(24 * 3650))
        prefetchConcurrency = try s.int("worker.prefetchConcurrency", in: 0...64)
    }
}

/// Backoff figures for retried jobs.
public struct RetrySettings: Sendable {
    public var base: Duration
    public var cap: Duration
    public var maxAttempts: Int

    init(settings s: SettingsReader) throws {
        base = try s.milliseconds("retry.baseMs", in: 1...3_600_000)
        cap = try s.milliseconds("retry.capMs", in: 1...86_400_000)
        maxAttempts = try s.int("retry.maxAttempts", in: 1...100)
    }
}

/// Settings of the `api` role.
public struct APISettings: Sendable {
    public var host: String
    public var port: Int
    /// The operations listener (`/healthz`, `/readyz`, `/metrics`): loopback by default.
    public var opsHost: String
    public var opsPort: Int
    /// Limits against slow, idle and too many clients on the public listener.
    public var edge: EdgeSettings
    public var commandWait: Duration
    public var cacheTTLSeconds: Int
    /// How long a store's details are kept before they are fetched again.
    public var venueCacheTTL: Duration
    /// How long a lookup of a booking we hold no details of waits for its turn to fetch them
    /// before it answers 202 "being prepared".
    public var fetchWait: Duration
    /// How long a slot token from the availability answer stays valid for a modify.
    public var slotTokenTTLSeconds: Int
    /// How many days ahead an availability window may start: with the 14-day cap on its length,
    /// this bounds the windows, hence the Booxi calls, one booking's visitor can ask for.
    public var availabilityHorizonDays: Int
    /// Lookups kept in memory per replica while Redis reports changes (0: every lookup reads Redis).
    public var lookupCacheCapacity: Int
    public var actionCutoffMinutes: Int
    public var lookupsPerMinutePerIP: Int
    public var lookupsPerSecondGlobal: Int
    public var actionsPerMinutePerIP: Int
    public var actionsPerSecondGlobal: Int
    public var trustedProxies: [String]
    public var allowedOrigins: [String]
    public var frameAncestors: String
    /// Where visitors reach the API and page (`https://track.example.com`); empty when unknown.
    public var publicURL: String
    /// `Strict-Transport-Security: max-age` sent when `publicURL` is https (0: not sent).
    public var hstsMaxAgeSeconds: Int

    init(settings s: SettingsReader) throws {
        host = try s.string("api.host")
        port = try s.int("api.port", in: 0...65535)
        opsHost = try s.string("api.opsHost")
        opsPort = try s.int("api.opsPort", in: 0...65535)
        edge = try EdgeSettings(settings: s, role: "api")
        commandWait = try s.milliseconds("api.commandWaitMs", in: 0...60_000)
        cacheTTLSeconds = try s.int("api.cacheTtlSeconds", in: 1...86_400)
        venueCacheTTL = .seconds(60 * (try s.int("api.venueCacheMinutes", in: 1...(7 * 1440))))
        fetchWait = try s.milliseconds("api.fetchWaitMs", in: 0...60_000)
        slotTokenTTLSeconds = try s.int("api.slotTokenTtlSeconds", in: 60...86_400)
        availabilityHorizonDays = try s.int("api.availabilityHorizonDays", in: 1...3650)
        lookupCacheCapacity = try s.int("api.lookupCacheCapacity", in: 0...1_000_000)
        actionCutoffMinutes = try s.int("api.actionCutoffMinutes", in: 0...(7 * 1440))
        lookupsPerMinutePerIP = try s.int("api.lookupsPerMinutePerIP", in: 1...1_000_000)
        lookupsPerSecondGlobal = try s.int("api.lookupsPerSecondGlobal", in: 1...1_000_000)
        actionsPerMinutePerIP = try s.int("api.actionsPerMinutePerIP", in: 1...1_000_000)
        actionsPerSecondGlobal = try s.int("api.actionsPerSecondGlobal", in: 1...1_000_000)
        trustedProxies = try s.stringList("api.trustedProxies")
        allowedOrigins = try s.stringList("api.allowedOrigins")
        frameAncestors = try s.string("api.frameAncestors")
        publicURL = try s.string("api.publicUrl")
        guard publicURL.isEmpty || publicURL.hasPrefix("https://") || publicURL.hasPrefix("http://") else {
            throw ConfigurationError(key: "api.publicUrl", reason: "must be an http(s) URL, or empty")
        }
        hstsMaxAgeSeconds = try s.int("api.hstsMaxAgeSeconds", in: 0...(2 * 365 * 86_400))
    }
}

/// Where Booxi is and how hard we may call it.
public struct BooxiSettings: Sendable {
    public enum Region: String, Sendable, CaseIterable {
        case na, eu, simulator, custom
    }

    public var region: Region
    public var baseURL: String
    public var apiKeyHeader: String
    public var connectTimeout: Duration
    public var requestTimeout: Duration
    public var requestsPerSecond: Int
    public var requestsPerMinute: Int
    public var minSpacingMs: Int
    /// The longest a command or background call waits for its turn in the budget.
    public var maxQueueWait: Duration
    public var modifiedBy: String

    init(settings s: SettingsReader) throws {
        region = try s.choice("booxi.region")
        switch region {
        case .na: baseURL = "https://api.booxi.com/booking/v1"
        case .eu: baseURL = "https://api.booxi.eu/booking/v1"
        case .simulator, .custom: baseURL = try s.string("booxi.baseUrl")
        }
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
            throw ConfigurationError(key: "booxi.baseUrl", reason: "must be an http(s) URL")
        }
        apiKeyHeader = try s.string("booxi.apiKeyHeader")
        connectTimeout = try s.milliseconds("booxi.connectTimeoutMs", in: 1...60_000)
        requestTimeout = try s.milliseconds("booxi.requestTimeoutMs", in: 1...300_000)
        requestsPerSecond = try s.int("booxi.requestsPerSecond", in: 1...10_000)
        requestsPerMinute = try s.int("booxi.requestsPerMinute", in: 1...600_000)
        minSpacingMs = try s.int("booxi.minSpacingMs", in: 0...60_000)
        maxQueueWait = try s.milliseconds("booxi.maxQueueWaitMs", in: 1_000...3_600_000)
        modifiedBy = try s.string("booxi.modifiedBy")
    }
}

public struct SimulatorSettings: Sendable {
    public var host: String
    public var port: Int
    public var webhookURL: String
    /// JSON with the services, staff and bookings the simulator starts with.
    public var seedFile: String
    /// Booxi's fair use as the simulator enforces it (0: not enforced).
    public var requestsPerSecond: Int
    public var requestsPerMinute: Int

    init(settings s: SettingsReader) throws {
        seedFile = try s.string("simulator.seedFile")
        requestsPerSecond = try s.int("simulator.requestsPerSecond", in: 0...100_000)
        requestsPerMinute = try s.int("simulator.requestsPerMinute", in: 0...6_000_000)
        host = try s.string("simulator.host")
        port = try s.int("simulator.port", in: 0...65535)
        webhookURL = try s.string("simulator.webhookUrl")
    }
}

/// The limits of a public listener against slow, idle and too many clients (`<role>.edge.*`):
/// deadlines on progress, not activity, so a client trickling one byte a second gains nothing.
public struct EdgeSettings: Sendable {
    /// A new connection must deliver a complete request head within this.
    public var headerTimeout: Duration
    /// A request's body must be complete within this after its head.
    public var bodyTimeout: Duration
    /// After a response, the next request's head must be complete within this (keep-alive).
    public var idleTimeout: Duration
    /// Open connections on the listener.
    public var maxConnections: Int
    /// Open connections from one client (an IPv4 address, or an IPv6 /64: `ClientBucket`; not
    /// applied to trusted proxies: the proxy holds many clients' connections; put the cap on the proxy).
    public var maxConnectionsPerAddress: Int
    /// A request head larger than this is answered 431.
    public var maxHeaderBytes: Int

    public init(
        headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(20), idleTimeout: Duration = .seconds(60),
        maxConnections: Int = 10_000, maxConnectionsPerAddress: Int = 256, maxHeaderBytes: Int = 16_384
    ) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.maxHeaderBytes = maxHeaderBytes
    }

    init(settings s: SettingsReader, role: String) throws {
        headerTimeout = try s.milliseconds("\(role).edge.headerTimeoutMs", in: 100...300_000)
        bodyTimeout = try s.milliseconds("\(role).edge.bodyTimeoutMs", in: 100...600_000)
        idleTimeout = try s.milliseconds("\(role).edge.idleTimeoutMs", in: 100...3_600_000)
        maxConnections = try s.int("\(role).edge.maxConnections", in: 1...1_000_000)
        maxConnectionsPerAddress = try s.int("\(role).edge.maxConnectionsPerAddress", in: 1...1_000_000)
        maxHeaderBytes = try s.int("\(role).edge.maxHeaderBytes", in: 1_024...(1 << 20))
    }
}
