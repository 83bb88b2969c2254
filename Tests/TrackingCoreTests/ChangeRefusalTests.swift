import BooxiModels
import Foundation
import Testing
import TrackingCore

/// The one rule for "may this booking still change", used by the page's buttons, the API and the
/// worker (when the API accepted a command before the booking's details were known).
@Suite("Change rules")
struct ChangeRefusalTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func booking(status: String = "Approved", completed: Bool = false) -> Booking {
        Booking(
            bookingId: "B1", status: status, isCompleted: completed,
            client: .init(firstName: nil, lastName: nil, email: nil, presence: completed ? "Arrived" : "Expecting", trackingPage: nil))
    }

    @Test func eachRefusalAndItsBoundary() {
        let inTwoHours = now.addingTimeInterval(7_200)
        #expect(ChangeRefusal.check(recordStatus: "Approved", booking: booking(), start: inTwoHours, cutoffMinutes: 60, now: now) == nil)
        #expect(ChangeRefusal.check(recordStatus: "Approved", booking: booking(), start: inTwoHours, cutoffMinutes: 120, now: now) == .tooLate)
        #expect(ChangeRefusal.check(recordStatus: "Approved", booking: booking(), start: now, cutoffMinutes: 0, now: now) == .tooLate)
        #expect(
            ChangeRefusal.check(recordStatus: "Cancelled", booking: booking(), start: inTwoHours, cutoffMinutes: 0, now: now) == .alreadyCancelled)
        #expect(
            ChangeRefusal.check(recordStatus: "Approved", booking: booking(status: "Cancelled"), start: inTwoHours, cutoffMinutes: 0, now: now)
                == .alreadyCancelled)
        #expect(
            ChangeRefusal.check(recordStatus: "Approved", booking: booking(completed: true), start: inTwoHours, cutoffMinutes: 0, now: now)
                == .completed)
        // Without a known start only the status rules apply.
        #expect(ChangeRefusal.check(recordStatus: "Approved", booking: nil, start: nil, cutoffMinutes: 600, now: now) == nil)
        #expect(ChangeRefusal.tooLate.rawValue == "too_late" && ChangeRefusal.alreadyCancelled.rawValue == "already_cancelled")
    }
}
