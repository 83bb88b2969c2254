import BooxiAPI
@testable import ReadAPI
import Testing

@Suite("DecodedBookings: decoded once per copy, never a stale copy, bounded")
struct DecodedBookingsTests {
    static func json(_ id: String, status: String) -> [UInt8] { Array(#"{"bookingId":"\#(id)","status":"\#(status)"}"#.utf8) }

    @Test func aNewCopyOfTheBookingIsDecodedAgain() {
        let memo = DecodedBookings(capacity: 10)
        #expect(memo.booking(id: "B1", raw: Self.json("B1", status: "Approved"))?.status == "Approved")
        #expect(memo.booking(id: "B1", raw: Self.json("B1", status: "Approved"))?.status == "Approved")
        #expect(memo.booking(id: "B1", raw: Self.json("B1", status: "Cancelled"))?.status == "Cancelled")
        #expect(memo.booking(id: "B1", raw: Self.json("B1", status: "Approved"))?.status == "Approved")
        #expect(memo.count == 1)
    }

    @Test func unreadableJSONIsNilAndNotKept() {
        let memo = DecodedBookings(capacity: 10)
        #expect(memo.booking(id: "B1", raw: Array("{".utf8)) == nil)
        #expect(memo.count == 0)
    }

    @Test(arguments: [0, 1, 7])
    func neverHoldsMoreThanItsCapacity(capacity: Int) {
        let memo = DecodedBookings(capacity: capacity)
        for index in 0..<50 {
            #expect(memo.booking(id: "B\(index)", raw: Self.json("B\(index)", status: "Approved"))?.bookingId == "B\(index)")
            #expect(memo.count <= capacity)
        }
        #expect(capacity == 0 ? memo.count == 0 : memo.count > 0)
    }
}
