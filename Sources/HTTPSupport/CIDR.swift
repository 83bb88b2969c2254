import NIOCore

/// An address range such as `10.0.0.0/8` or `2001:db8::/32`, for allow lists and trusted proxies.
/// Parsing is total: any text, however long or odd (`/`, `1.2.3.4/`, `::/+8`, NUL bytes), is
/// either a range or nil, and never traps.
public struct CIDR: Sendable, Hashable {
    let network: [UInt8]
    let prefixLength: Int

    /// The longest address literal (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`, 45
    /// characters); anything longer is refused before it reaches the parser.
    static let maxAddressLength = 45

    public init?(_ text: String) {
        let address: Substring
        let length: Int?
        if let slash = text.firstIndex(of: "/") {
            address = text[..<slash]
            length = Self.prefixLength(text[text.index(after: slash)...])
            guard length != nil else { return nil }
        } else {
            address = text[...]
            length = nil
        }
        guard let bytes = CIDR.bytes(of: address) else { return nil }
        let maxLength = bytes.count * 8
        guard (0...maxLength).contains(length ?? maxLength) else { return nil }
        network = bytes
        prefixLength = length ?? maxLength
    }

    public func contains(_ address: some StringProtocol) -> Bool {
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

    /// One to three decimal digits, nothing else (no sign, no spaces).
    private static func prefixLength(_ text: Substring) -> Int? {
        guard (1...3).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(text)
    }

    /// Network-order bytes of an IPv4 or IPv6 literal (IPv4-mapped IPv6 becomes IPv4); nil for
    /// anything else. Only the characters of an address literal reach the C parser (a NUL byte
    /// would end the string there, and `1.2.3.4\0junk` would read as `1.2.3.4`).
    static func bytes(of address: some StringProtocol) -> [UInt8]? {
        guard (1...maxAddressLength).contains(address.utf8.count),
            address.utf8.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte) || byte == 0x2E || byte == 0x3A
            }),
            let socketAddress = try? SocketAddress(ipAddress: String(address), port: 0)
        else { return nil }
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
