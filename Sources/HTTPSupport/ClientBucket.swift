/// What a per-address limit counts a client under: an IPv4 address as it is (IPv4-mapped IPv6
/// too), an IPv6 address by its /64. One home for this rule, for every cap and throttle.
///
/// Why the /64: a single IPv6 subscriber is handed a /64 (often a /56 or /48) and may pick any
/// address in it, so counting addresses one by one gives each visitor 2⁶⁴ fresh limits, and lets
/// address churn defeat every cap and sweep. Anything that is not an address (a missing peer, a
/// forwarded-for hop that does not parse) shares one bucket, `unknown`.
public struct ClientBucket: Sendable, Hashable, CustomStringConvertible {
    /// `203.0.113.7`, `2001:db8:1:2::/64` or `unknown`: safe to log.
    public let key: String

    public static let unknown = ClientBucket(key: "unknown")

    private init(key: String) {
        self.key = key
    }

    public init(address: String?) {
        guard let address, let bytes = CIDR.bytes(of: address) else {
            self = .unknown
            return
        }
        if bytes.count == 4 {
            key = bytes.map(String.init).joined(separator: ".")
        } else {
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            key = groups.joined(separator: ":") + "::/64"
        }
    }

    public var description: String { key }
}
