/// A configuration value that is missing or unusable; the message names the key and, where it
/// helps, the environment variable that sets it. Secret values never appear in it.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let key: String
    public let reason: String

    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }

    public var description: String {
        "configuration key '\(key)' (env \(EnvironmentName.of(key))): \(reason)"
    }
}

/// The environment variable that overrides a dotted key: `redis.poolSize` → `BXT_REDIS_POOL_SIZE`.
public enum EnvironmentName {
    public static let prefix = "BXT"

    /// Mirrors swift-configuration's environment key encoding: a word boundary only where a
    /// lower-case letter meets an upper-case one (so keys avoid runs of capitals: `tokenTtlSeconds`).
    public static func of(_ key: String) -> String {
        // Secrets have names of their own (`BOOXI_PARTNER_API_KEY`, `BXT_WEBHOOK_TOKENS`, ...).
        if let secret = Secrets.sources.first(where: { $0.key == key }) { return secret.environment }
        var name = prefix
        for component in key.split(separator: ".") {
            name += "_"
            var previous: Character?
            for character in component {
                if let previous, previous.isLowercase, character.isUppercase { name += "_" }
                name += character.isLetter || character.isNumber ? character.uppercased() : "_"
                previous = character
            }
        }
        return name
    }
}
