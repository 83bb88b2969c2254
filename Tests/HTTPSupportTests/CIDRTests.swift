import HTTPSupport
import HTTPTypes
import NIOCore
import Testing

@Suite("CIDR ranges and the client address behind trusted proxies")
struct CIDRTests {
    @Test func rangesAndSingleAddresses() throws {
        let ten = try #require(CIDR("10.0.0.0/8"))
        #expect(ten.contains("10.1.2.3") && !ten.contains("11.0.0.1"))
        let one = try #require(CIDR("192.168.1.7"))
        #expect(one.contains("192.168.1.7") && !one.contains("192.168.1.8"))
        let v6 = try #require(CIDR("fd00::/8"))
        #expect(v6.contains("fd12::1") && !v6.contains("fe80::1"))
        #expect(CIDR("10.0.0.0/33") == nil && CIDR("not an address") == nil)
    }

    @Test func forwardedForCountsOnlyBehindATrustedProxy() throws {
        let resolver = ClientAddressResolver(trustedProxies: ["10.0.0.0/8"])
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Forwarded-For")!] = "198.51.100.1, 203.0.113.9, 10.0.0.3"
        // Behind the proxy: the right-most hop that is not a proxy (the left ones are the client's word).
        #expect(resolver.clientAddress(peer: try SocketAddress(ipAddress: "10.0.0.2", port: 1), headers: headers) == "203.0.113.9")
        // From anyone else the header is ignored.
        #expect(resolver.clientAddress(peer: try SocketAddress(ipAddress: "203.0.113.50", port: 1), headers: headers) == "203.0.113.50")
        #expect(resolver.clientAddress(peer: try SocketAddress(ipAddress: "::ffff:203.0.113.7", port: 1), headers: [:]) == "203.0.113.7")
    }
}

/// Configuration and headers are attacker-adjacent: no text makes the parsers trap.
@Suite("CIDR and forwarded-for parsing is total")
struct HostileCIDRTests {
    static let hostile: [String] = [
        "", "/", "//", "/8", "10.0.0.0/", "10.0.0.0//8", "10.0.0.0/8/8", "10.0.0.0/+8", "10.0.0.0/-1", "10.0.0.0/ 8",
        "10.0.0.0/9223372036854775808", "10.0.0.0/0x8", "::/129", "::/", ":/", ":::", "1.2.3.4\u{0}/8", "1.2.3.4/8\u{0}",
        "2001:db8::/64%eth0", "١٠.٠.٠.٠/٨", "10.0.0.0/８", "😀/😀", String(repeating: "1", count: 100_000),
        String(repeating: "/", count: 10_000), String(repeating: ":", count: 10_000) + "/8",
    ]

    @Test func hostileRangesAreNil() {
        for text in Self.hostile { #expect(CIDR(text) == nil, "\(text.prefix(40))") }
        #expect(CIDR("0.0.0.0/0")?.contains("198.51.100.1") == true)
        #expect(CIDR("::/0")?.contains("2001:db8::1") == true)
        #expect(CIDR("10.0.0.0/08") != nil)
    }

    @Test func containsIsTotal() throws {
        let range = try #require(CIDR("10.0.0.0/8"))
        for text in Self.hostile { #expect(!range.contains(text)) }
        #expect(!range.contains("10.0.0.1\u{0}"))
    }

    @Test func forwardedForIsTotalAndBounded() throws {
        let resolver = ClientAddressResolver(trustedProxies: ["10.0.0.0/8", "/"])
        let proxy = try SocketAddress(ipAddress: "10.0.0.2", port: 1)
        for value in Self.hostile + [String(repeating: ",", count: 8_000), String(repeating: "10.0.0.1,", count: 2_000) + "203.0.113.9", " , ,\t"] {
            var headers = HTTPFields()
            headers[HTTPField.Name("X-Forwarded-For")!] = value
            _ = resolver.clientAddress(peer: proxy, headers: headers)
            _ = resolver.clientBucket(peer: proxy, headers: headers)
        }
        // Beyond 16 proxies from the right, the left-most proxy looked at stands for the client.
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Forwarded-For")!] = "203.0.113.9, " + Array(repeating: "10.0.0.1", count: 40).joined(separator: ", ")
        #expect(resolver.clientAddress(peer: proxy, headers: headers) == "10.0.0.1")
        headers[HTTPField.Name("X-Forwarded-For")!] = " 203.0.113.9 ,\t10.0.0.3 "
        #expect(resolver.clientAddress(peer: proxy, headers: headers) == "203.0.113.9")
    }
}
