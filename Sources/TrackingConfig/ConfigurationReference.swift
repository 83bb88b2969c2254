import Foundation

/// The reference of every configuration key: what it means, in the code beside the keys it
/// documents. `booxi-tracking admin config-reference` renders it with each key's environment
/// variable (``EnvironmentName``) and its default from `config/default.json` into
/// `docs/configuration.md`; a test fails when the file, the defaults and this list disagree.
public enum ConfigurationReference {
    /// Every key of `config/default.json`, in the order the reference lists them, with its meaning.
    public static let keys: [(key: String, meaning: String)] = [
        (
            "redis.url",
            "Redis URL `redis://[user:pass@]host:port/db`, `rediss://…` (TLS) or `unix:///path?db=N` (read as a secret: it may hold a password)"
        ),
        ("redis.keyPrefix", "prefix of every key"),
        ("redis.poolSize", "shared connections (and I/O threads) per process"),
        ("redis.blockingPoolSize", "connections reserved for BLMOVE/BLPOP (raised automatically to what a role needs)"),
        ("redis.connectTimeoutMs", "connect timeout"),
        ("redis.commandTimeoutMs", "socket timeout of one command"),
        ("redis.poolWaitTimeoutMs", "wait for a free pooled connection"),
        ("redis.tls.caFile", "with `rediss://`: PEM file of the CA(s) that sign the server's certificate (empty: the system's trust store)"),
        ("redis.tls.certFile", "with `rediss://`: PEM client certificate, for servers that require one (`tls-auth-clients yes`)"),
        ("redis.tls.keyFile", "with `rediss://`: its PEM private key"),
        ("redis.tls.serverName", "with `rediss://`: the name the server's certificate must carry, also sent as SNI (empty: the URL's host)"),
        ("redis.tls.verify", "`full` (chain and host name), `chain` (chain only) or `none` (encryption without authentication: tests only)"),
        (
            "redis.sentinels",
            "Sentinel addresses `host:port` (comma-separated in env); set, the primary is found and followed through them and the URL gives only TLS, credentials and db"
        ),
        ("redis.sentinelMaster", "the name the sentinels monitor the primary under (required with `redis.sentinels`)"),
        (
            "redis.cluster.seeds",
            "Redis Cluster nodes `host:port` to learn the slot map from (comma-separated in env); set, commands go to the primary of their key's slot and the URL gives only TLS and credentials (database 0). Not with `redis.sentinels`"
        ),
        (
            "queue.shards",
            "the queues' shards, each under its own hash tag so a Redis Cluster spreads them (docs/scaling.md, queue shards); every role must use the same count"
        ),
        ("log.level", "trace, debug, info, notice, warning, error, critical"),
        ("ingress.host", "listen address"),
        ("ingress.port", "listen port"),
        ("ingress.opsHost", "operations listener (`/healthz`, `/readyz`, `/metrics`) address"),
        ("ingress.opsPort", "operations listener port"),
        ("ingress.edge.headerTimeoutMs", "a connection's (next) request head must be complete within this"),
        ("ingress.edge.bodyTimeoutMs", "a request body must be complete within this after its head"),
        ("ingress.edge.idleTimeoutMs", "keep-alive: the next head must be complete within this after a response"),
        ("ingress.edge.maxConnections", "open connections on the public listener"),
        ("ingress.edge.maxConnectionsPerAddress", "open connections from one client address, an IPv6 client by its /64 (trusted proxies exempt)"),
        ("ingress.edge.maxHeaderBytes", "larger request heads get 431"),
        ("ingress.path", "webhook path (POST and PUT)"),
        ("ingress.bodyLimitBytes", "larger bodies get 413"),
        ("ingress.pushDeadlineMs", "Redis must acknowledge the push within this, else 503"),
        (
            "ingress.replicaAcks",
            "replicas that must hold a webhook (`WAIT`) before it is answered 200, else 503; the API's command enqueue follows it too (0 = the primary alone)"
        ),
        ("ingress.replicaAckTimeoutMs", "how long the push waits for those replicas (shorter than `ingress.pushDeadlineMs`)"),
        ("ingress.retryAfterSeconds", "`Retry-After` sent with 503"),
        ("ingress.dedupe.idField", "top-level JSON field holding the event id"),
        ("ingress.dedupe.idHeader", "header holding the event id (wins over the field)"),
        ("ingress.dedupe.windowSeconds", "how long an event id is remembered (72 h)"),
        ("ingress.auth.tokenHeader", "header carrying the webhook token (when tokens are configured)"),
        ("ingress.auth.tokenInPath", "token as the last path segment instead (`/webhooks/booxi/<token>`)"),
        ("ingress.signature.enabled", "check an HMAC-SHA256 signature"),
        ("ingress.signature.preset", "`custom` or `standardWebhooks` (fixes the next five keys)"),
        ("ingress.signature.header", "signature header"),
        ("ingress.signature.encoding", "`hex` or `base64`"),
        ("ingress.signature.signedContent", "`body` or `id.timestamp.body`"),
        ("ingress.signature.idHeader", "id header for `id.timestamp.body`"),
        ("ingress.signature.timestampHeader", "timestamp header (Unix seconds)"),
        ("ingress.signature.toleranceSeconds", "accepted clock difference"),
        ("ingress.oauth.enabled", "OAuth2 client credentials: serve the token endpoint, require `Authorization: Bearer`"),
        ("ingress.oauth.clientId", "client id Booxi presents"),
        ("ingress.oauth.tokenPath", "token endpoint path"),
        ("ingress.oauth.tokenTtlSeconds", "lifetime of issued tokens"),
        ("ingress.allowedSources", "source-IP allow list (CIDRs, comma-separated in env); empty = any"),
        ("ingress.trustedProxies", "proxies whose `X-Forwarded-For` is believed"),
        (
            "ingress.allowUnauthenticated",
            "start with no webhook authentication (no token, signature, OAuth or allow list): local development only; otherwise such an ingress refuses to start"
        ),
        ("worker.port", "the worker's operations listener port (`/healthz`, `/readyz`, `/metrics`)"),
        ("worker.host", "its address"),
        ("worker.concurrency", "fetch lanes per queue (commands, webhooks)"),
        ("worker.batchSize", "jobs taken per fetch (1 blocking + N-1 non-blocking)"),
        ("worker.blockTimeoutMs", "BLMOVE wait"),
        ("worker.heartbeatTtlMs", "heartbeat lifetime: a dead worker is noticed after this"),
        ("worker.reaperIntervalMs", "how often a reaper looks for dead workers"),
        ("worker.shutdownGraceMs", "time to finish in-flight jobs on SIGTERM"),
        ("worker.recordRetentionHours", "records expire this long after the appointment ends (30 days)"),
        ("worker.prefetchConcurrency", "background booking fetches (prefetch, refresh) a worker runs at once (0 = none)"),
        ("retry.baseMs", "backoff base"),
        ("retry.capMs", "backoff cap"),
        ("retry.maxAttempts", "attempts before the dead-letter list"),
        ("api.host", "listen address"),
        ("api.port", "listen port"),
        ("api.opsHost", "operations listener (`/healthz`, `/readyz`, `/metrics`) address"),
        ("api.opsPort", "operations listener port"),
        ("api.edge.headerTimeoutMs", "a connection's (next) request head must be complete within this"),
        ("api.edge.bodyTimeoutMs", "a request body must be complete within this after its head"),
        ("api.edge.idleTimeoutMs", "keep-alive: the next head must be complete within this after a response"),
        ("api.edge.maxConnections", "open connections on the public listener"),
        ("api.edge.maxConnectionsPerAddress", "open connections from one client address, an IPv6 client by its /64 (trusted proxies exempt)"),
        ("api.edge.maxHeaderBytes", "larger request heads get 431"),
        ("api.commandWaitMs", "how long cancel/modify wait for the worker before answering 202"),
        ("api.cacheTtlSeconds", "a cached booking older than this is still served, and refreshed from Booxi in the background"),
        ("api.venueCacheMinutes", "how long a store's details (`GET /merchant/{id}`) are kept in Redis and in memory: a few Booxi calls a day"),
        (
            "api.fetchWaitMs",
            "how long a lookup of a booking with no current copy waits for its turn in Booxi's budget before answering 202 `preparing`"
        ),
        ("api.slotTokenTtlSeconds", "how long a slot token from the availability answer is valid for a modify"),
        ("api.availabilityHorizonDays", "how many days ahead an availability window may start (windows are whole UTC days, at most 14)"),
        (
            "api.lookupCacheCapacity",
            "codes whose lookup a replica keeps in memory while Redis reports changes (0 = every lookup reads Redis, no tracking connection)"
        ),
        ("api.actionCutoffMinutes", "no cancel/modify this close to the start (0 = until the start)"),
        ("api.lookupsPerMinutePerIP", "per-client lookup budget (an IPv6 client is its /64)"),
        ("api.lookupsPerSecondGlobal", "lookup budget of one replica"),
        ("api.actionsPerMinutePerIP", "per-client cancel/modify budget (an IPv6 client is its /64)"),
        ("api.actionsPerSecondGlobal", "cancel/modify budget of one replica"),
        ("api.trustedProxies", "proxies whose `X-Forwarded-For` is believed"),
        ("api.allowedOrigins", "CORS origins (empty = same-origin only)"),
        ("api.frameAncestors", "CSP `frame-ancestors` for embedding the page"),
        ("api.publicUrl", "where visitors reach the API and page (`https://track.example.com`); https turns HSTS on"),
        ("api.hstsMaxAgeSeconds", "`Strict-Transport-Security` max-age when `api.publicUrl` is https (0 = not sent)"),
        ("booxi.region", "`na` (api.booxi.com), `eu` (api.booxi.eu), `simulator` or `custom` (use `booxi.baseUrl`)"),
        ("booxi.baseUrl", "base URL for `simulator`/`custom`"),
        ("booxi.apiKeyHeader", "header carrying the Partner API key (`Booxi-PartnerKey` or `x-api-key`)"),
        ("booxi.connectTimeoutMs", "connect timeout"),
        ("booxi.requestTimeoutMs", "whole-call timeout"),
        ("booxi.requestsPerSecond", "Booxi calls in any sliding second, all processes together"),
        ("booxi.requestsPerMinute", "Booxi calls in any sliding minute, all processes together"),
        ("booxi.minSpacingMs", "least time between two calls"),
        ("booxi.maxQueueWaitMs", "longest a command or background call waits for its turn (then it is retried)"),
        ("booxi.modifiedBy", "`modifiedBy` sent with PUTs"),
        ("simulator.host", "listen address"),
        ("simulator.port", "listen port"),
        ("simulator.webhookUrl", "where the simulator delivers webhooks"),
        ("simulator.seedFile", "services, staff and bookings the simulator starts with"),
        ("simulator.requestsPerSecond", "Booxi's fair use as the simulator enforces it (0 = not enforced)"),
        ("simulator.requestsPerMinute", "per minute, likewise"),
        ("console.host", "the operations console's address: loopback by default, never the visitor-facing listener"),
        ("console.port", "the operations console's port"),
        ("console.publicUrl", "where operators reach the console; `https://…` marks its session cookie `Secure`"),
        ("console.sessionTtlMinutes", "how long a console session lasts at most (sessions live in Redis, so every console replica shares them)"),
        (
            "console.sessionIdleMinutes",
            "a session also ends this long after the operator's last request (the overview's automatic refresh does not count)"
        ),
        ("console.trustedUserHeader", "behind an authenticating proxy: the header naming the user (e.g. `X-Forwarded-User`); empty: off"),
        ("console.trustedProxies", "addresses or CIDRs the user header is honoured from (required with it)"),
        (
            "console.loginFailuresPerUser",
            "failed logins allowed per user name from one client address within the window, then 429 (no password check)"
        ),
        ("console.loginFailuresPerAddress", "failed logins allowed per client address, whatever the names, within the window, then 429"),
        (
            "console.loginFailuresPerUserAnyAddress",
            "failed logins allowed per user name from all addresses together within the window, then 429: far above the per-address limits, so a stranger cannot lock a user out by name"
        ),
        ("console.loginWindowMinutes", "the window failed logins are counted in"),
        ("console.edge.headerTimeoutMs", "a connection's (next) request head must be complete within this"),
        ("console.edge.bodyTimeoutMs", "a request body must be complete within this after its head"),
        ("console.edge.idleTimeoutMs", "keep-alive: the next head must be complete within this after a response"),
        ("console.edge.maxConnections", "open connections on the console listener"),
        (
            "console.edge.maxConnectionsPerAddress",
            "open connections from one client address, an IPv6 client by its /64 (`console.trustedProxies` exempt)"
        ),
        ("console.edge.maxHeaderBytes", "larger request heads get 431"),
        ("page.businessName", "shown in the page header and title"),
        ("page.logoUrl", "https URL or path of the logo (allowed by the CSP)"),
        ("page.primaryColor", "brand colour `#rrggbb`"),
        ("page.supportContact", "shown in the footer"),
        (
            "page.language",
            "`auto` (Accept-Language, among the languages with a message file) or one of them: `en`, `fr`, `es`, or one a business added"
        ),
        ("page.timeZone", "IANA time zone the appointments are shown in when the store's details give none"),
        ("page.modifyMode", "`builtin` (service, day, slot) or `widget` (BookNow.openModify)"),
        ("page.widgetScriptUrl", "BookNow script (`…booxi.eu…` in Europe)"),
        (
            "page.widgetApiKey",
            "the merchant's BookNow key (public, as on any site embedding the widget): \"Book again\" opens BookNow with the same service and staff"
        ),
        ("page.bookingUrl", "where \"Book again\" leads when there is no widget key (empty: no button)"),
        ("page.messagesDir", "a directory of `<language>.json` files laid over the shipped `config/messages/`: change any string, or add a language"),
        ("page.venue.name", "the store's name, when Booxi's store details lack it"),
        ("page.venue.address", "the store's address (one line), when Booxi's lack it"),
        ("page.venue.phone", "the store's phone number, when Booxi's lack it"),
        ("page.venue.latitude", "the store's latitude (empty: unknown), for the directions link and the calendar's GEO"),
        ("page.venue.longitude", "the store's longitude (empty: unknown)"),
        ("page.venue.override", "`true`: `page.venue.*` values win over Booxi's store details instead of only filling gaps"),
    ]

    static let introduction = """
        Read once at start: `config/default.json` (every key has its default there; `BXT_DEFAULTS_FILE` names
        another file) < the file given with `--config FILE` (see `config/production.example.json`) <
        environment variables `BXT_*` < secrets. Every key's environment variable is the key in upper snake
        case with `BXT_` in front (a word boundary where a lower-case letter meets an upper-case one, so keys
        avoid runs of capitals: `tokenTtlSeconds`). Lists are comma-separated in the environment.
        `booxi-tracking admin check` validates everything and pings Redis.

        Secrets come from the environment, or from the file named by the same variable with `_FILE` appended
        (Docker/Kubernetes secrets). They enter swift-configuration as secret values (redacted by its access
        reporting); `Secrets.description` prints only whether each is set.
        """

    static let secrets = """
        | secret | environment |
        |---|---|
        | Booxi Partner API key (worker, api) | `BOOXI_PARTNER_API_KEY` / `BOOXI_PARTNER_API_KEY_FILE` |
        | webhook tokens (comma-separated, several during a rotation) | `BXT_WEBHOOK_TOKENS` / `_FILE` |
        | webhook HMAC signing secrets (comma-separated) | `BXT_WEBHOOK_SIGNING_SECRETS` / `_FILE` |
        | OAuth2 client secret Booxi uses at the token endpoint | `BXT_OAUTH_CLIENT_SECRET` / `_FILE` |
        | key that seals the API's slot tokens (optional: derived from the Partner API key otherwise) | `BXT_SLOT_TOKEN_SECRET` / `_FILE` |
        | password of the Redis sentinels (`redis.sentinelPassword`), if they require one | `BXT_REDIS_SENTINEL_PASSWORD` / `_FILE` |
        | the Redis URL (`redis.url`), when it carries a password | `BXT_REDIS_URL` / `_FILE` |
        | the console's users, `name:bcrypt-hash` comma-separated (`booxi-tracking console hash-password`) | `BXT_CONSOLE_USERS` / `_FILE` |
        """

    public struct Mismatch: Error, CustomStringConvertible {
        public let undocumented: [String]
        public let unknown: [String]
        public var description: String {
            "configuration reference and defaults disagree: undocumented keys \(undocumented), keys without a default \(unknown)"
        }
    }

    /// The Markdown of `docs/configuration.md`, from the defaults file's JSON; throws when a key
    /// is in one and not the other.
    public static func markdown(defaults json: Data) throws -> String {
        let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] ?? [:]
        let defaults = leaves(object)
        let documented = Set(keys.map(\.key))
        let mismatch = Mismatch(
            undocumented: defaults.keys.filter { !documented.contains($0) }.sorted(),
            unknown: keys.map(\.key).filter { defaults[$0] == nil })
        guard mismatch.undocumented.isEmpty, mismatch.unknown.isEmpty else { throw mismatch }
        var text = """
            # Configuration

            <!-- Generated by `booxi-tracking admin config-reference` (scripts/gen-docs.sh) from config/default.json and
                 Sources/TrackingConfig/ConfigurationReference.swift. Do not edit: Tests/Deployment/test_configuration.py fails when they differ. -->

            \(introduction)

            \(secrets)

            """
        var section = ""
        for (key, meaning) in keys {
            let group = String(key.prefix { $0 != "." })
            if group != section {
                section = group
                text += "\n## `\(group)`\n\n| key | env | default | meaning |\n|---|---|---|---|\n"
            }
            text += "| `\(key)` | `\(EnvironmentName.of(key))` | `\(render(defaults[key]!))` | \(meaning) |\n"
        }
        return text
    }

    static func leaves(_ object: [String: Any], prefix: String = "") -> [String: Any] {
        var result: [String: Any] = [:]
        for (name, value) in object {
            if let nested = value as? [String: Any] {
                result.merge(leaves(nested, prefix: prefix + name + "."), uniquingKeysWith: { first, _ in first })
            } else {
                result[prefix + name] = value
            }
        }
        return result
    }

    /// A default as written in the JSON file (strings without their quotes).
    static func render(_ value: Any) -> String {
        if let list = value as? [Any] { return "[" + list.map(render).joined(separator: ", ") + "]" }
        if let text = value as? String { return text }
        let json = (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])) ?? Data()
        return String(decoding: json, as: UTF8.self)
    }
}
