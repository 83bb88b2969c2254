import BooxiModels
import Foundation

/// Whether a visitor may still cancel or modify a booking: the one rule the page's buttons, the
/// API's check and a worker's check (when the API could not check) all apply.
public enum ChangeRefusal: String, Sendable, Equatable, CaseIterable {
    case alreadyCancelled = "already_cancelled"
    case completed
    /// Staff checked the client in: the appointment is under way.
    case checkedIn = "checked_in"
    /// Staff marked the client as not having come.
    case noShow = "no_show"
    case tooLate = "too_late"

    /// Why, for the visitor.
    public var message: String {
        switch self {
        case .alreadyCancelled: "this appointment is already cancelled"
        case .completed: "this appointment is completed"
        case .checkedIn: "you are checked in for this appointment"
        case .noShow: "this appointment was marked as missed"
        case .tooLate: "this appointment can no longer be changed online"
        }
    }

    /// nil when the booking may change: not cancelled (by our record or Booxi's copy), not
    /// completed, the client neither checked in nor marked absent, and its start (when known) more than `cutoffMinutes` ahead and not past.
    public static func check(
        recordStatus: String, booking: Booking?, start: Date?, cutoffMinutes: Int, now: Date = Date()
    ) -> ChangeRefusal? {
        if recordStatus == "Cancelled" || booking?.status == "Cancelled" { return .alreadyCancelled }
        if booking?.isCompletedVisit == true { return .completed }
        switch booking?.client?.presence?.lowercased() {
        case "arrived": return .checkedIn
        case "noshow": return .noShow
        default: break
        }
        guard let start else { return nil }
        if start <= now || start.timeIntervalSince(now) <= Double(cutoffMinutes * 60) { return .tooLate }
        return nil
    }
}
