import BooxiModels
import Foundation
import Testing
@testable import TrackingCore

@Suite("Booking state and cancel reasons: what the page is told, what a cancel may say")
struct BookingStateTests {
    static let future = ISO8601.format(Date().addingTimeInterval(86_400))
    static let past = ISO8601.format(Date().addingTimeInterval(-86_400))

    static func booking(status: String = "Approved", presence: String? = nil, completed: Bool = false, start: String = future) -> Booking {
        Booking(
            bookingId: "B", status: status, isCompleted: completed, startsOn: start,
            client: .init(firstName: nil, lastName: nil, email: nil, presence: presence, trackingPage: nil))
    }

    @Test func everyStateFromBooxisData() {
        #expect(BookingState.of(recordStatus: "Approved", booking: Self.booking()) == .confirmed)
        #expect(BookingState.of(recordStatus: "Cancelled", booking: Self.booking()) == .cancelled)  // our record wins
        #expect(BookingState.of(recordStatus: "Approved", booking: Self.booking(status: "PendingStaffApproval")) == .pendingStaffApproval)
        #expect(BookingState.of(recordStatus: "Approved", booking: Self.booking(status: "PendingClientApproval")) == .pendingClientApproval)
        #expect(BookingState.of(recordStatus: "Approved", booking: Self.booking(presence: "Arrived")) == .arrived)
        #expect(BookingState.of(recordStatus: "Approved", booking: Self.booking(presence: "arrived", completed: true)) == .completed)
        #expect(BookingState.of(recordStatus: "Approved", booking: Self.booking(presence: "NoShow")) == .noShow)
        #expect(BookingState.of(recordStatus: "Approved", booking: Self.booking(start: Self.past)) == .past)
        #expect(BookingState.of(recordStatus: "Approved", booking: nil) == .confirmed)
    }

    @Test func checkedInAndNoShowBookingsCannotChange() {
        #expect(ChangeRefusal.check(recordStatus: "Approved", booking: Self.booking(presence: "Arrived"), start: nil, cutoffMinutes: 0) == .checkedIn)
        #expect(ChangeRefusal.check(recordStatus: "Approved", booking: Self.booking(presence: "NoShow"), start: nil, cutoffMinutes: 0) == .noShow)
    }

    @Test func cancelReasons() throws {
        #expect(try CancelReason(code: nil, note: "  ") == nil)
        let reason = try #require(try CancelReason(code: "unwell", note: " Fever\u{7}\nsorry "))
        #expect(reason.code == .unwell && reason.note == "Fever\nsorry")
        #expect(throws: CancelReason.Invalid.unknownCode("bored")) { try CancelReason(code: "bored", note: nil) }
        #expect(throws: CancelReason.Invalid.noteTooLong) { try CancelReason(code: nil, note: String(repeating: "a", count: 501)) }
    }
}
