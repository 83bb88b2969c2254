import Crypto
import Foundation
import HTTPSupport
import RedisClient

/// OAuth2 client credentials for Booxi's webhook calls: Booxi exchanges the configured client id
/// and secret for a short-lived bearer token, then sends it with each webhook. Tokens live in Redis
/// (only their SHA-256), so any ingress replica accepts a token another one issued.
struct OAuthTokenStore: Sendable {
    let redis: RedisClient
    let keyPrefix: String
    let clientID: String
    let clientSecret: SecretMatcher
    let tokenTTLSeconds: Int

    private func key(for token: some StringProtocol) -> String {
        keyPrefix + "{i}:oauth:" + SHA256.hash(data: Array(token.utf8)).hexString
    }

    func credentialsAreValid(clientID presentedID: String, clientSecret presentedSecret: String) -> Bool {
        // Both are checked, whatever the first says, so timing does not reveal the client id.
        let idMatches = SecretMatcher([clientID]).matches(presentedID)
        let secretMatches = clientSecret.matches(presentedSecret)
        return idMatches && secretMatches
    }

    /// Issues a new random token, valid for `tokenTTLSeconds`.
    func issue() async throws -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let token = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        try await redis.send("SET", key(for: token), "1", "EX", tokenTTLSeconds)
        return token
    }

    /// Counts a token request from `address` in the current minute (increment, then the caller
    /// checks: concurrent requests cannot all pass a check made before counting).
    func countAttempt(from client: ClientBucket) async throws -> Int {
        var pipeline = RedisPipeline()
        let key = keyPrefix + "{i}:oauth-attempts:" + client.key
        pipeline.append("INCR", key)
        pipeline.append("EXPIRE", key, 60, "NX")
        return try await redis.execute(pipeline)[0].int ?? 0
    }

    func isValid(_ token: some StringProtocol) async throws -> Bool {
        try await redis.send("EXISTS", key(for: token)) == .integer(1)
    }
}
