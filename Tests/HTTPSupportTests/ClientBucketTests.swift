@testable import HTTPSupport
import Logging
import Testing
import TrackingConfig

/// Per-address limits count an IPv6 client by its /64, and every per-client map stays bounded.
@Suite("Client buckets: IPv6 by /64, bounded tables")
struct ClientBucketTests {
    @Test func ipv6IsAggregatedBySlash64() {
        let one = ClientBucket(address: "2001:db8:1:2:aaaa:bbbb:cccc:dddd")
        #expect(one.key == "2001:db8:1:2::/64")
        #expect(ClientBucket(address: "2001:0db8:0001:0002::1") == one)
        #expect(ClientBucket(address: "2001:db8:1:3::1") != one)
        #expect(ClientBucket(address: "::1").key == "0:0:0:0::/64")
    }

    @Test func ipv4AndIPv4MappedAreTheAddressItself() {
        #expect(ClientBucket(address: "203.0.113.7").key == "203.0.113.7")
        #expect(ClientBucket(address: "203.0.113.8") != ClientBucket(address: "203.0.113.7"))
        #expect(ClientBucket(address: "::ffff:203.0.113.7") == ClientBucket(address: "203.0.113.7"))
        #expect(ClientBucket(address: "::FFFF:cb00:7107").key == "203.0.113.7")
    }

    @Test(arguments: [nil, "", "unknown", "1.2.3.4\u{0}5", "1.2.3.4 ", "2001:db8::1%eth0", String(repeating: "1", count: 10_000), "😀"])
    func anythingElseIsOneBucket(address: String?) {
        #expect(ClientBucket(address: address) == .unknown)
    }

    @Test func aTableStaysBoundedUnder100kDistinctAddresses() {
        var table = ClientTable<Int>(capacity: 1_000, idle: .seconds(60), table: "test")
        let start = ContinuousClock.now
        for index in 0..<100_000 {
            let address = "10.\(index >> 16).\((index >> 8) & 0xFF).\(index & 0xFF)"
            table.set(index, for: ClientBucket(address: address), now: start + .microseconds(index))
            #expect(table.count <= 1_000)
        }
        // The newest clients are kept; the least recently seen went.
        #expect(table[ClientBucket(address: "10.1.134.159")]?.value == 99_999)
        #expect(table[ClientBucket(address: "10.0.0.0")] == nil)
        table.removeIdle(now: start + .seconds(120))
        #expect(table.count == 0)
    }

    @Test func churnWithinOneSlash64IsOneEntry() {
        var table = ClientTable<Int>(capacity: 10, idle: .seconds(60), table: "test")
        let now = ContinuousClock.now
        for index in 0..<100_000 {
            table.set(
                index, for: ClientBucket(address: "2001:db8:7:7:\(String(index >> 16, radix: 16)):\(String(index & 0xFFFF, radix: 16))::1"), now: now)
        }
        #expect(table.count == 1)
    }

    func edgeGuard(perAddress: Int) -> EdgeGuard {
        EdgeGuard(
            limits: EdgeSettings(maxConnectionsPerAddress: perAddress), listener: "test", clientAddress: ClientAddressResolver(trustedProxies: []),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    @Test func theConnectionCapCountsASlash64AsOneClient() {
        let edge = edgeGuard(perAddress: 2)
        #expect(edge.admit("2001:db8::1") == nil && edge.admit("2001:db8::2") == nil)
        #expect(edge.admit("2001:db8::ffff") == .addressFull)
        #expect(edge.admit("2001:db8:0:1::1") == nil)
        #expect(edge.admit("::ffff:192.0.2.1") == nil && edge.admit("192.0.2.1") == nil && edge.admit("192.0.2.1") == .addressFull)
        #expect(edge.countedClients == 3)
        for address in ["2001:db8::1", "2001:db8::2", "2001:db8:0:1::1", "192.0.2.1", "192.0.2.1"] { edge.release(address) }
        #expect(edge.countedClients == 0)
    }

    @Test func theRefusalLogStaysBoundedUnderChurn() {
        let edge = edgeGuard(perAddress: 1)
        for index in 0..<100_000 {
            edge.refused(.addressFull, address: "2001:db8:\(String(index >> 16, radix: 16)):\(String(index & 0xFFFF, radix: 16))::1")
        }
        #expect(edge.loggedClients <= EdgeGuard.loggedClientsCapacity)
    }
}
