import HTTPSupport
import HTTPTypes
import NIOCore

/// Address ranges from configuration (`CIDR`) and the client address behind trusted proxies
/// (`ClientAddressResolver`, `X-Forwarded-For`) and its `ClientBucket`, which every throttle and
/// allow list keys on.
/// Input: `trusted proxies, comma-separated \n peer address \n X-Forwarded-For value`.
public enum ForwardedForFuzz {
    static let forwardedFor = HTTPField.Name("x-forwarded-for")!

    public static func run(_ data: [UInt8]) {
        let fields = FuzzFields(data[...], count: 3)
        let proxies = fields.text(0).map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? []
        for proxy in proxies {
            // A range holds the address it was written with.
            if let range = CIDR(proxy), let address = proxy.split(separator: "/", maxSplits: 1).first {
                precondition(range.contains(String(address)), "a range does not hold its own address")
            }
        }
        let resolver = ClientAddressResolver(trustedProxies: proxies)
        let peer = fields.text(1).flatMap { try? SocketAddress(ipAddress: $0, port: 0) }
        var headers = HTTPFields()
        if let value = fields.text(2) { headers[forwardedFor] = value }
        if let address = resolver.clientAddress(peer: peer, headers: headers) {
            _ = resolver.isTrusted(address)
        }
        // The key every cap and throttle counts under: an address, a /64, or `unknown`, never the raw header.
        let bucket = resolver.clientBucket(peer: peer, headers: headers)
        precondition(bucket == .unknown || CIDR(bucket.key) != nil, "a client bucket that is not an address or range")
    }
}
