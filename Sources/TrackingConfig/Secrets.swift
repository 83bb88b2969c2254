import Configuration
import Foundation

/// The secrets and where they come from: an environment variable, or a file named by the same
/// variable with `_FILE` appended (Docker/Kubernetes secrets). They enter the configuration as
/// secret values, so access logging redacts them, and their `description` never shows them.
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

    public var booxiPartnerAPIKey: String?
    /// Accepted webhook tokens; several at once during a rotation.
    public var webhookTokens: [String]
    /// Accepted HMAC signing secrets; several at once during a rotation.
    public var webhookSigningSecrets: [String]
    public var oauthClientSecret: String?
    /// Seals the API's slot tokens; without it they are sealed with a key derived from the Partner
    /// API key (which every API replica shares).
    public var slotTokenSecret: String?
    /// The console's users: `name:bcrypt-hash` entries (`booxi-tracking console hash-password`).
    public var consoleUsers: [String]

    public init(
        booxiPartnerAPIKey: String? = nil, webhookTokens: [String] = [], webhookSigningSecrets: [String] = [],
        oauthClientSecret: String? = nil, slotTokenSecret: String? = nil, consoleUsers: [String] = []
    ) {
        self.consoleUsers = consoleUsers
        self.booxiPartnerAPIKey = booxiPartnerAPIKey
        self.webhookTokens = webhookTokens
        self.webhookSigningSecrets = webhookSigningSecrets
        self.oauthClientSecret = oauthClientSecret
        self.slotTokenSecret = slotTokenSecret
    }

    init(settings: SettingsReader) {
        self.init(
            booxiPartnerAPIKey: settings.secret("secrets.booxiPartnerApiKey"),
            webhookTokens: settings.secretList("secrets.webhookTokens"),
            webhookSigningSecrets: settings.secretList("secrets.webhookSigningSecrets"),
            oauthClientSecret: settings.secret("secrets.oauthClientSecret"),
            slotTokenSecret: settings.secret("secrets.slotTokenSecret"),
            consoleUsers: settings.secretList("secrets.consoleUsers"))
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
