import HTTPSupport
@testable import ReadAPI
import Testing

/// The API's per-client throttle: an IPv6 client is its /64, and the table stays bounded under
/// address churn.
@Suite("Request throttle: /64 buckets, bounded under churn")
struct RequestThrottleTests {
    @Test func addressesOfOneSlash64ShareABucket() {
        let throttle = RequestThrottle(perClientPerMinute: 2, globalPerSecond: 1_000, name: "test")
        let now = ContinuousClock.now
        #expect(throttle.admit(client: ClientBucket(address: "2001:db8:1:2::1"), now: now) == nil)
        #expect(throttle.admit(client: ClientBucket(address: "2001:db8:1:2:ffff:ffff:ffff:ffff"), now: now) == nil)
        #expect(throttle.admit(client: ClientBucket(address: "2001:db8:1:2:dead:beef::7"), now: now) != nil)
        // The next /64 and an IPv4 client have buckets of their own.
        #expect(throttle.admit(client: ClientBucket(address: "2001:db8:1:3::1"), now: now) == nil)
        #expect(throttle.admit(client: ClientBucket(address: "203.0.113.7"), now: now) == nil)
        #expect(throttle.trackedClients == 3)
    }

    @Test func stayBoundedUnder100kDistinctAddresses() {
        let throttle = RequestThrottle(perClientPerMinute: 60, globalPerSecond: 1_000_000, name: "test", capacity: 5_000)
        let now = ContinuousClock.now
        for index in 0..<100_000 {
            let address = "2001:db8:\(String(index >> 16, radix: 16)):\(String(index & 0xFFFF, radix: 16))::1"
            _ = throttle.admit(client: ClientBucket(address: address), now: now + .milliseconds(index))
        }
        #expect(throttle.trackedClients <= 5_000)
        // The most recent clients are still limited: eviction takes the least recently seen.
        #expect(throttle.trackedClients > 3_000)
        // A minute's quiet and the sweep empties it.
        _ = throttle.admit(client: ClientBucket(address: "198.51.100.1"), now: now + .seconds(300))
        #expect(throttle.trackedClients == 1)
    }
}
