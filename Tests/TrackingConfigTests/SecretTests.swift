import Foundation
import RedisClient
import Testing
import TrackingConfig

/// Every way Swift prints a value: what service-lifecycle, swift-log metadata and a careless
/// `"\(x)"` would write.
func everyRendering(of value: some Any) -> String {
    var dumped = ""
    dump(value, to: &dumped)
    return [
        String(describing: value), "\(value)", String(reflecting: value), dumped,
        Mirror(reflecting: value).children.map { "\($0.label ?? ""): \($0.value)" }.joined(),
    ].joined(separator: "\n")
}

@Suite("Secrets: redacted however they are printed, refused when weak")
struct SecretTests {
    static let defaults = AppConfigurationTests.defaults

    static let partnerKey = "PK-partner-key-in-clear-7f3a"
    static let token = "webhook-token-in-clear-5c1e9d"
    static let signing = "signing-secret-in-clear-88b2"
    static let oauth = "oauth-secret-in-clear-a41f07"
    static let slotKey = "slot-token-key-in-clear-0d6b"
    static let redisPassword = "redis-password-in-clear-93c4"
    static let sentinelPassword = "sentinel-password-in-clear-2e"
    static let consoleHash = "$2b$12$consolehashinclearconsolehashinclearconsolehashin"
    static let all = [partnerKey, token, signing, oauth, slotKey, redisPassword, sentinelPassword, consoleHash]

    func load(_ environment: [String: String]) async throws -> AppConfiguration {
        try await AppConfiguration.load(environment: environment.merging(["BXT_DEFAULTS_FILE": Self.defaults]) { a, _ in a })
    }

    func configured() async throws -> AppConfiguration {
        try await load([
            "BOOXI_PARTNER_API_KEY": Self.partnerKey, "BXT_WEBHOOK_TOKENS": Self.token, "BXT_WEBHOOK_SIGNING_SECRETS": Self.signing,
            "BXT_OAUTH_CLIENT_SECRET": Self.oauth, "BXT_SLOT_TOKEN_SECRET": Self.slotKey, "BXT_CONSOLE_USERS": "ops:\(Self.consoleHash)",
            "BXT_REDIS_URL": "redis://app:\(Self.redisPassword)@10.0.0.5:6379/0", "BXT_REDIS_SENTINELS": "10.0.0.11:26379",
            "BXT_REDIS_SENTINEL_MASTER": "bxt-primary", "BXT_REDIS_SENTINEL_PASSWORD": Self.sentinelPassword,
        ])
    }

    @Test func aSecretPrintsRedactedEveryWay() {
        let secret = Secret(Self.token)
        let printed = everyRendering(of: secret) + everyRendering(of: [secret]) + everyRendering(of: Optional(secret))
        #expect(!printed.contains(Self.token))
        #expect(printed.contains(Secret.redacted))
        #expect(secret.revealed == Self.token && secret.byteCount == Self.token.utf8.count)
    }

    @Test func noConfigurationPrintsASecret() async throws {
        let configuration = try await configured()
        #expect(configuration.secrets.webhookTokens.map(\.revealed) == [Self.token])
        #expect(configuration.redis.password?.revealed == Self.redisPassword)
        #expect(configuration.redis.sentinel?.password?.revealed == Self.sentinelPassword)
        for rendering in [everyRendering(of: configuration), everyRendering(of: configuration.secrets), everyRendering(of: configuration.redis)] {
            for secret in Self.all { #expect(!rendering.contains(secret), "\(secret) printed") }
        }
    }

    @Test func aRedisURLsPasswordIsRedacted() throws {
        let configuration = try RedisConfiguration(url: "redis://\(Self.redisPassword)@localhost:6379/1")
        #expect(configuration.password?.revealed == Self.redisPassword && configuration.username == nil)
        #expect(!everyRendering(of: configuration).contains(Self.redisPassword))
    }

    @Test(arguments: [
        ("BXT_WEBHOOK_TOKENS", "short-token", "secrets.webhookTokens"),
        ("BXT_WEBHOOK_TOKENS", "a-token-long-enough-123,zq9x2", "secrets.webhookTokens"),
        ("BXT_WEBHOOK_TOKENS", "replace-with-a-long-random-token", "secrets.webhookTokens"),
        ("BXT_OAUTH_CLIENT_SECRET", "tiny", "secrets.oauthClientSecret"),
        ("BXT_SLOT_TOKEN_SECRET", "0123456789abcde", "secrets.slotTokenSecret"),
        ("BXT_WEBHOOK_SIGNING_SECRETS", "sig", "secrets.webhookSigningSecrets"),
        // Standard Webhooks: 24 to 64 bytes once decoded.
        ("BXT_WEBHOOK_SIGNING_SECRETS", "whsec_" + Data(repeating: 7, count: 16).base64EncodedString(), "secrets.webhookSigningSecrets"),
        ("BXT_WEBHOOK_SIGNING_SECRETS", "whsec_" + Data(repeating: 7, count: 65).base64EncodedString(), "secrets.webhookSigningSecrets"),
        ("BXT_WEBHOOK_SIGNING_SECRETS", "whsec_not*base64*at*all*but*long*enough", "secrets.webhookSigningSecrets"),
        ("BOOXI_PARTNER_API_KEY", "replace-me", "secrets.booxiPartnerApiKey"),
        ("BXT_REDIS_URL", "rediss://default:REPLACE-WITH-THE-REDIS-PASSWORD@redis.example.internal:6380/0", "redis.url"),
    ])
    func weakSecretsAreRefusedNamingTheirKeyAndVariableNotTheValue(variable: String, value: String, key: String) async throws {
        let error = await #expect(throws: ConfigurationError.self) { try await load([variable: value]) }
        #expect(error?.key == key)
        let text = error.map(String.init(describing:)) ?? ""
        #expect(text.contains(variable), "\(text)")
        for part in value.split(separator: ",") where part.count > 3 { #expect(!text.contains(part), "\(text)") }
    }

    @Test(arguments: [
        ("BXT_WEBHOOK_TOKENS", "test-webhook-token-0123456789abcdef"),
        ("BXT_WEBHOOK_SIGNING_SECRETS", "whsec_" + Data(repeating: 7, count: 24).base64EncodedString()),
        ("BXT_WEBHOOK_SIGNING_SECRETS", "whsec_" + Data(repeating: 7, count: 64).base64EncodedString()),
        ("BXT_WEBHOOK_SIGNING_SECRETS", "a-plain-signing-secret-of-32-bytes"),
        ("BXT_OAUTH_CLIENT_SECRET", "0123456789abcdef"),
        // The Partner key is Booxi's to choose: only a placeholder is refused.
        ("BOOXI_PARTNER_API_KEY", "test-key"),
    ])
    func strongEnoughSecretsLoad(variable: String, value: String) async throws {
        _ = try await load([variable: value])
    }
}
