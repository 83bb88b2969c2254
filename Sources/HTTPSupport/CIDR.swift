import HTTPTypes
import NIOCore

/// An address range such as `10.0.0.0/8` or `2001:db8::/32`, for allow lists and trusted proxies.
public struct CIDR: Sendable, Hashable {
    let network: [UInt8]
    let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard let address = CIDR.bytes(of: String(parts[0])) else { return nil }
        let maxLength = address.count * 8
        let length = parts.count == 2 ? Int(parts[1]) : maxLength
        guard let length, (0...maxLength).contains(length) else { return nil }
        network = address
        prefixLength = length
    }

    public func contains(_ address: String) -> Bool {
        guard let bytes = CIDR.bytes(of: address), bytes.count == network.count else { return false }
        var remaining = prefixLength
        for index in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if bytes[index] & mask != network[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// Network-order bytes of an IPv4 or IPv6 literal (IPv4-mapped IPv6 becomes IPv4).
    static func bytes(of address: String) -> [UInt8]? {
        guard let socketAddress = try? SocketAddress(ipAddress: address, port: 0) else { return nil }
        switch socketAddress {
        case .v4(let v4):
            return withUnsafeBytes(of: v4.address.sin_addr.s_addr) { Array($0) }
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
            return bytes
        default:
            return nil
        }
    }
}

/// Works out the client's address: the peer address, or, when the peer is a trusted proxy, the
/// right-most address in `X-Forwarded-For` that is not itself a trusted proxy.
public struct ClientAddressResolver: Sendable {
    let trustedProxies: [CIDR]

    public init(trustedProxies: [String]) {
        self.trustedProxies = trustedProxies.compactMap(CIDR.init)
    }

    static let forwardedForHeader = HTTPField.Name("x-forwarded-for")!

    /// The client address of a request with these headers from this peer.
    public func clientAddress(peer: SocketAddress?, headers: HTTPFields) -> String? {
        guard let peerIP = peer?.ipAddress else { return nil }
        guard isTrusted(peerIP), let forwardedFor = headers[Self.forwardedForHeader] else { return Self.normalized(peerIP) }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() where !isTrusted(hop) {
            return CIDR.bytes(of: hop) == nil ? nil : Self.normalized(hop)
        }
        return hops.first.map(Self.normalized) ?? Self.normalized(peerIP)
    }

    /// Whether `address` is one of the trusted proxies.
    public func isTrusted(_ address: String) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    static func normalized(_ address: String) -> String {
        address.hasPrefix("::ffff:") ? String(address.dropFirst(7)) : address
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Set<Character>) -> String {
        String(drop(while: set.contains).reversed().drop(while: set.contains).reversed())
    }
}

extension Set where Element == Character {
    fileprivate static let whitespaces: Set<Character> = [" ", "\t"]
}
