/// A value that must never reach a log: the Partner API key, webhook tokens, signing and OAuth
/// secrets, the slot-token key, Redis passwords, console password hashes. Its description, debug
/// description and reflection all read `<redacted>`, so `"\(x)"`, `String(reflecting:)`, `dump`
/// and the reflection service-lifecycle logs a service by (at `debug`, and at `error` when a service
/// ends unexpectedly) show nothing of it, however deep in a configuration it sits. The value is
/// read only through ``revealed``, at the one place that sends or checks it.
///
/// It lives in `RedisClient`, the lowest module, so every holder (Redis, Booxi, configuration)
/// can use the same type.
public struct Secret: Sendable, Hashable, ExpressibleByStringLiteral {
    private let storage: String

    public init(_ value: String) {
        storage = value
    }

    public init(stringLiteral value: String) {
        storage = value
    }

    /// The value itself: for the request header, the `AUTH` command or the key derivation, never
    /// for a log line or an error message.
    public var revealed: String { storage }

    /// Its length in bytes (what the configuration checks), without revealing it.
    public var byteCount: Int { storage.utf8.count }

    public static let redacted = "<redacted>"
}

extension Secret: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { Self.redacted }
    public var debugDescription: String { Self.redacted }
    /// No children: `dump` and `Mirror` see an opaque leaf.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: nil) }
}
