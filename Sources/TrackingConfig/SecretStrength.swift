import Foundation
import RedisClient

/// The one rule for whether a configured secret is strong enough to start with. A refusal is a
/// ``ConfigurationError`` that names the key and its variable, and which entry of a list, never
/// the value.
enum SecretStrength {
    /// Tokens, the OAuth client secret, the slot-token key and plain signing secrets: 16 bytes is
    /// 128 bits when random, beyond guessing over the network.
    static let minimumBytes = 16
    /// A Standard Webhooks secret (`whsec_` + base64) carries a 24 to 64 byte key (the spec's range).
    static let standardWebhooksKeyBytes = 24...64

    /// The values our examples tell operators to replace (`.env.example`, the Kubernetes secrets:
    /// `replace-me`, `replace-with-a-long-random-token`, `REPLACE-WITH-THE-REDIS-PASSWORD`, ...).
    static func isPlaceholder(_ value: String) -> Bool {
        let lowered = value.lowercased()
        return lowered == "replace-me" || lowered.hasPrefix("replace-with-")
    }

    static func notPlaceholder(_ secret: Secret?, key: String) throws {
        guard let secret, isPlaceholder(secret.revealed) else { return }
        throw ConfigurationError(key: key, reason: "still holds the example's placeholder; set the real value")
    }

    /// Secrets we ask operators to generate (`openssl rand -hex 32`).
    static func random(_ secrets: [Secret], key: String) throws {
        for (index, secret) in secrets.enumerated() {
            try notPlaceholder(secret, key: key)
            if secret.byteCount < minimumBytes {
                throw ConfigurationError(
                    key: key,
                    reason: "\(entry(index, of: secrets.count))is shorter than \(minimumBytes) bytes; use a long random value (openssl rand -hex 32)")
            }
        }
    }

    /// Signing secrets: `whsec_<base64>` as Standard Webhooks defines it, else a plain secret.
    static func signing(_ secrets: [Secret], key: String) throws {
        for (index, secret) in secrets.enumerated() {
            try notPlaceholder(secret, key: key)
            let value = secret.revealed
            guard value.hasPrefix("whsec_") else {
                if secret.byteCount < minimumBytes {
                    throw ConfigurationError(
                        key: key, reason: "\(entry(index, of: secrets.count))is shorter than \(minimumBytes) bytes (or use a whsec_ secret)")
                }
                continue
            }
            guard let decoded = Data(base64Encoded: String(value.dropFirst(6))) else {
                throw ConfigurationError(key: key, reason: "\(entry(index, of: secrets.count))starts with whsec_ but is not base64 after it")
            }
            guard standardWebhooksKeyBytes.contains(decoded.count) else {
                throw ConfigurationError(
                    key: key,
                    reason: "\(entry(index, of: secrets.count))decodes to \(decoded.count) bytes; Standard Webhooks keys are "
                        + "\(standardWebhooksKeyBytes.lowerBound) to \(standardWebhooksKeyBytes.upperBound) bytes")
            }
        }
    }

    /// "entry 2 of 3 " in a list of several, nothing for one value.
    private static func entry(_ index: Int, of count: Int) -> String {
        count > 1 ? "entry \(index + 1) of \(count) " : ""
    }
}
