import BooxiModels
import Foundation
import TestSupport
import Testing

@Suite("Booking JSON: flat and wrapped forms, tolerant of the unknown")
struct BookingDecodingTests {
    @Test func flatFixture() throws {
        let booking = try Booking.decode(try fixture("booking-A00006500.json"))
        #expect(booking.bookingId == "A00006500")
        #expect(booking.startDate != nil)
    }

    @Test func wrappedFormGivesTheSameBooking() throws {
        let flat = try fixture("booking-A00006500.json")
        let wrapped = Array(#"{"meta":{"v":2},"booking":"#.utf8) + flat + Array("}".utf8)
        #expect(try Booking.decode(wrapped) == Booking.decode(flat))
    }

    @Test func aFlatBookingWithAFieldNamedBookingIsStillFlat() throws {
        let booking = try Booking.decode(Array(#"{"bookingId":"B1","booking":"web","status":"Approved"}"#.utf8))
        #expect(booking.bookingId == "B1" && booking.status == "Approved")
    }

    @Test func withoutAnIdItIsNotABooking() {
        #expect(throws: (any Error).self) { try Booking.decode(Array(#"{"status":"Approved"}"#.utf8)) }
        #expect(throws: (any Error).self) { try Booking.decode(Array(#"{"booking":{"status":"Approved"}}"#.utf8)) }
        #expect(throws: (any Error).self) { try Booking.decode(Array("[]".utf8)) }
    }
}
