import JobQueue
import Foundation

/// A visitor's cancel or modify request, as queued for the workers (the job's payload). It holds
/// the bookingId, which never leaves the server, and the code it came through.
public struct CommandJob: Codable, Sendable, Equatable {
    public enum Action: String, Codable, Sendable {
        case cancel, modify

        /// The queue's kind for this action's jobs.
        public var jobKind: JobKind {
            switch self {
            case .cancel: .cancel
            case .modify: .modify
            }
        }
    }

    public var action: Action
    public var bookingID: String
    public var code: String
    public var startsOn: String?
    public var serviceID: Int?
    public var staffID: Int?
    /// Set when the API accepted the command without the booking's details (still being fetched):
    /// the worker fetches them first and applies ``ChangeRefusal`` with this cutoff.
    public var uncheckedCutoffMinutes: Int?
    /// For a cancel: why, if the visitor said.
    public var cancelReason: CancelReason?
    /// Who asked: `page` (the tracking page, the default) or `console`.
    public var requestedBy: String?

    public init(
        action: Action, bookingID: String, code: String, startsOn: String? = nil, serviceID: Int? = nil, staffID: Int? = nil,
        uncheckedCutoffMinutes: Int? = nil, cancelReason: CancelReason? = nil
    ) {
        self.action = action
        self.bookingID = bookingID
        self.code = code
        self.startsOn = startsOn
        self.serviceID = serviceID
        self.staffID = staffID
        self.uncheckedCutoffMinutes = uncheckedCutoffMinutes
        self.cancelReason = cancelReason
    }
}

/// Where a command job stands, as the API reports it (`GET /api/tracking/:code/jobs/:jobId`).
public struct CommandStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case queued, running, succeeded, failed
    }

    public var state: State
    /// For `failed`: a sentence for the visitor.
    public var reason: String?
    /// For `failed`: why.
    public var refusal: CommandRefusal?
    /// For a successful modify: the tracking code the booking answers to now.
    public var trackingCode: String?
    /// ``TrackingCode/logID`` of the code the job was requested through: a job is only visible
    /// through that code. Never sent to the browser.
    public var owner: String?
    /// For a cancel: the reason the visitor gave, kept with the job's record.
    public var cancelReason: CancelReason?

    public init(
        state: State, reason: String? = nil, refusal: CommandRefusal? = nil, trackingCode: String? = nil, owner: String? = nil,
        cancelReason: CancelReason? = nil
    ) {
        self.state = state
        self.cancelReason = cancelReason
        self.reason = reason
        self.refusal = refusal
        self.trackingCode = trackingCode
        self.owner = owner
    }
}
