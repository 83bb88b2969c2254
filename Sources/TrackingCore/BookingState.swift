import BooxiModels
import Foundation

/// What a visitor is told about a booking: every state Booxi's data can express, one wording and
/// badge each on the page. Our record's status wins over Booxi's copy (it knows a cancellation
/// first); presence and completion come from the copy.
public enum BookingState: String, Sendable, CaseIterable {
    case pendingStaffApproval, pendingClientApproval, confirmed, cancelled, arrived, completed, noShow, past

    public static func of(recordStatus: String, booking: Booking?, now: Date = Date()) -> BookingState {
        of(recordStatus: recordStatus, booking: booking, end: booking?.endDate ?? booking?.startDate, now: now)
    }

    /// `end` is the booking's end, else its start, as the caller parsed it already (a lookup
    /// parses once per read from Redis, not per request).
    public static func of(recordStatus: String, booking: Booking?, end: Date?, now: Date = Date()) -> BookingState {
        let status = recordStatus == "Cancelled" ? recordStatus : (booking?.status ?? recordStatus)
        switch status {
        case "Cancelled": return .cancelled
        case "PendingStaffApproval": return .pendingStaffApproval
        case "PendingClientApproval": return .pendingClientApproval
        default: break
        }
        if booking?.isCompletedVisit == true { return .completed }
        switch booking?.client?.presence?.lowercased() {
        case "arrived": return .arrived
        case "noshow": return .noShow
        default: break
        }
        if let end, end <= now { return .past }
        return .confirmed
    }

    /// Over (or never to happen): the page offers to book again.
    public var isOver: Bool {
        switch self {
        case .cancelled, .completed, .noShow, .past: true
        case .pendingStaffApproval, .pendingClientApproval, .confirmed, .arrived: false
        }
    }
}
