import HTTPTypes
import NIOCore

/// Works out the client's address: the peer address, or, when the peer is a trusted proxy, the
/// right-most address in `X-Forwarded-For` that is not itself a trusted proxy. Total on any
/// header: at most ``maxHops`` hops are looked at, and a hop that is not an address gives nil.
public struct ClientAddressResolver: Sendable {
    let trustedProxies: [CIDR]

    /// Hops read from the right of `X-Forwarded-For`: a real chain has a few proxies; the rest of
    /// a longer header is the client's own word, and reading it all would let a 16 KiB header
    /// cost thousands of address parses.
    public static let maxHops = 16

    public init(trustedProxies: [String]) {
        self.trustedProxies = trustedProxies.compactMap(CIDR.init)
    }

    static let forwardedForHeader = HTTPField.Name("x-forwarded-for")!

    /// The client address of a request with these headers from this peer.
    public func clientAddress(peer: SocketAddress?, headers: HTTPFields) -> String? {
        guard let peerIP = peer?.ipAddress else { return nil }
        guard isTrusted(peerIP), let forwardedFor = headers[Self.forwardedForHeader] else { return Self.normalized(peerIP) }
        var nearest: Substring?
        for hop in forwardedFor.split(separator: ",").reversed().prefix(Self.maxHops) {
            let hop = Self.trimmed(hop)
            guard isTrusted(hop) else { return CIDR.bytes(of: hop) == nil ? nil : Self.normalized(String(hop)) }
            nearest = hop
        }
        // Every hop looked at is a trusted proxy: the left-most of them is as near the client as we know.
        return nearest.map { Self.normalized(String($0)) } ?? Self.normalized(peerIP)
    }

    /// The bucket a per-address limit counts this request's client under (``ClientBucket``).
    public func clientBucket(peer: SocketAddress?, headers: HTTPFields) -> ClientBucket {
        ClientBucket(address: clientAddress(peer: peer, headers: headers))
    }

    /// Whether `address` is one of the trusted proxies.
    public func isTrusted(_ address: some StringProtocol) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    static func normalized(_ address: String) -> String {
        address.hasPrefix("::ffff:") ? String(address.dropFirst(7)) : address
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
