@testable import ReadAPI
import RedisClient
import Testing
@testable import TrackingCore

@Suite("LookupCache: kept while Redis reports no change, never a copy that may predate one")
struct LookupCacheTests {
    static let keys = MappingKeys(prefix: "bxt:")

    static func entry(_ bookingID: String, code: String, status: String = "Approved") -> LookupCache.Entry {
        let record = BookingRecord(fields: ["bookingId": Array(bookingID.utf8), "code": Array(code.utf8), "status": Array(status.utf8)])!
        return LookupCache.Entry(record: record)
    }

    static func tracking(capacity: Int = 10) -> LookupCache {
        let cache = LookupCache(capacity: capacity, keys: keys)
        cache.handle(.started)
        return cache
    }

    static func store(_ cache: LookupCache, _ code: String, _ bookingID: String) throws {
        cache.store(entry(bookingID, code: code), for: TrackingCode(code)!, ticket: try #require(cache.ticket()))
    }

    let code = TrackingCode("abcdefgh")!

    @Test func nothingIsKeptOrServedWhileChangesGoUnreported() throws {
        let cache = LookupCache(capacity: 10, keys: Self.keys)
        #expect(cache.ticket() == nil)
        cache.handle(.started)
        try Self.store(cache, "abcdefgh", "B1")
        #expect(cache.entry(for: code)?.record.bookingID == "B1")
        cache.handle(.stopped)
        #expect(cache.entry(for: code) == nil && cache.ticket() == nil)
        #expect(LookupCache(capacity: 0, keys: Self.keys).ticket() == nil)
    }

    @Test func aChangeOfTheCodeKeyOrTheBookingRecordEvicts() throws {
        let cache = Self.tracking()
        try Self.store(cache, "abcdefgh", "B1")
        try Self.store(cache, "ijklmnop", "B2")
        try Self.store(cache, "qrstuvwx", "B3")
        cache.handle(.changed([Self.keys.code(code), Self.keys.retired("B2"), "unrelated"]))
        #expect(cache.entry(for: code) == nil && cache.count == 2)
        cache.handle(.changed([Self.keys.booking("B2")]))
        #expect(cache.entry(for: TrackingCode("ijklmnop")!) == nil && cache.count == 1)
        cache.handle(.flushed)
        #expect(cache.count == 0 && cache.ticket() != nil)
    }

    @Test func aCopyReadWhileAChangeWasReportedIsNotKept() throws {
        let cache = Self.tracking()
        let ticket = try #require(cache.ticket())
        cache.handle(.changed(["bxt:{m}:code:zzzzzzzz"]))  // any report: the read may predate it
        cache.store(Self.entry("B1", code: "abcdefgh"), for: code, ticket: ticket)
        #expect(cache.entry(for: code) == nil)

        let afterForget = try #require(cache.ticket())
        cache.forget(TrackingCode("zzzzzzzz")!)
        cache.store(Self.entry("B1", code: "abcdefgh"), for: code, ticket: afterForget)
        #expect(cache.entry(for: code) == nil)
    }

    @Test func aBookingIsKeptUnderOneCodeOnly() throws {
        let cache = Self.tracking()
        try Self.store(cache, "abcdefgh", "B1")
        try Self.store(cache, "ijklmnop", "B1")  // modified: a new code for the same booking
        #expect(cache.entry(for: code) == nil && cache.count == 1)
        cache.handle(.changed([Self.keys.booking("B1")]))
        #expect(cache.count == 0)
    }

    @Test(arguments: [1, 7])
    func neverHoldsMoreThanItsCapacity(capacity: Int) throws {
        let cache = Self.tracking(capacity: capacity)
        for index in 0..<50 {
            try Self.store(cache, "code\(String(format: "%04d", index))", "B\(index)")
            #expect(cache.count <= capacity && cache.count > 0)
        }
    }
}
