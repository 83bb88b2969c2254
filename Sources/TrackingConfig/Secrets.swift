import Configuration
import Foundation
import RedisClient

/// The secrets and where they come from: an environment variable, or a file named by the same
/// variable with `_FILE` appended (Docker/Kubernetes secrets). They enter the configuration as
/// secret values, so access logging redacts them, and are held as ``Secret``s, so neither this
/// type's nor any holder's description or reflection shows them.
public struct Secrets: Sendable, CustomStringConvertible {
    /// Environment variable → configuration key.
    public static let sources: [(environment: String, key: String)] = [
        ("BOOXI_PARTNER_API_KEY", "secrets.booxiPartnerApiKey"),
        ("BXT_WEBHOOK_TOKENS", "secrets.webhookTokens"),
        ("BXT_WEBHOOK_SIGNING_SECRETS", "secrets.webhookSigningSecrets"),
        ("BXT_OAUTH_CLIENT_SECRET", "secrets.oauthClientSecret"),
        ("BXT_SLOT_TOKEN_SECRET", "secrets.slotTokenSecret"),
        ("BXT_CONSOLE_USERS", "secrets.consoleUsers"),
        ("BXT_REDIS_SENTINEL_PASSWORD", "redis.sentinelPassword"),
        // The URL may carry the password: `BXT_REDIS_URL_FILE` (Kubernetes and Docker secrets).
        ("BXT_REDIS_URL", "redis.url"),
    ]

    public var booxiPartnerAPIKey: Secret?
    /// Accepted webhook tokens; several at once during a rotation.
    public var webhookTokens: [Secret]
    /// Accepted HMAC signing secrets; several at once during a rotation.
    public var webhookSigningSecrets: [Secret]
    public var oauthClientSecret: Secret?
    /// Seals the API's slot tokens; without it they are sealed with a key derived from the Partner
    /// API key (which every API replica shares).
    public var slotTokenSecret: Secret?
    /// The console's users: `name:bcrypt-hash` entries (`booxi-tracking console hash-password`).
    public var consoleUsers: [Secret]

    public init(
        booxiPartnerAPIKey: Secret? = nil, webhookTokens: [Secret] = [], webhookSigningSecrets: [Secret] = [],
        oauthClientSecret: Secret? = nil, slotTokenSecret: Secret? = nil, consoleUsers: [Secret] = []
    ) {
        self.consoleUsers = consoleUsers
        self.booxiPartnerAPIKey = booxiPartnerAPIKey
        self.webhookTokens = webhookTokens
        self.webhookSigningSecrets = webhookSigningSecrets
        self.oauthClientSecret = oauthClientSecret
        self.slotTokenSecret = slotTokenSecret
    }

    /// Reads the secrets and refuses weak ones (``SecretStrength``): a placeholder left in, or a
    /// token or key too short to resist guessing.
    init(settings: SettingsReader) throws {
        self.init(
            booxiPartnerAPIKey: settings.secret("secrets.booxiPartnerApiKey"),
            webhookTokens: settings.secretList("secrets.webhookTokens"),
            webhookSigningSecrets: settings.secretList("secrets.webhookSigningSecrets"),
            oauthClientSecret: settings.secret("secrets.oauthClientSecret"),
            slotTokenSecret: settings.secret("secrets.slotTokenSecret"),
            consoleUsers: settings.secretList("secrets.consoleUsers"))
        try SecretStrength.notPlaceholder(booxiPartnerAPIKey, key: "secrets.booxiPartnerApiKey")
        try SecretStrength.random(webhookTokens, key: "secrets.webhookTokens")
        try SecretStrength.signing(webhookSigningSecrets, key: "secrets.webhookSigningSecrets")
        try SecretStrength.random(oauthClientSecret.map { [$0] } ?? [], key: "secrets.oauthClientSecret")
        try SecretStrength.random(slotTokenSecret.map { [$0] } ?? [], key: "secrets.slotTokenSecret")
    }

    public var description: String {
        "Secrets(partnerKey: \(booxiPartnerAPIKey == nil ? "unset" : "set"), webhookTokens: \(webhookTokens.count), "
            + "signingSecrets: \(webhookSigningSecrets.count), oauthClientSecret: \(oauthClientSecret == nil ? "unset" : "set"), "
            + "slotTokenSecret: \(slotTokenSecret == nil ? "unset" : "set"), consoleUsers: \(consoleUsers.count))"
    }

    /// A provider holding the secrets found in `environment` (directly or through `NAME_FILE`).
    static func provider(environment: [String: String]) throws -> InMemoryProvider {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (name, key) in sources {
            var value = environment[name]
            if value == nil, let path = environment[name + "_FILE"] {
                do {
                    value = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                } catch {
                    throw ConfigurationError(key: key, reason: "cannot read secret file named by \(name)_FILE")
                }
            }
            if let value {
                values[AbsoluteConfigKey(ConfigKey(key))] = ConfigValue(.string(value), isSecret: true)
            }
        }
        return InMemoryProvider(name: "secrets", values: values)
    }
}
