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
