/// What can go wrong talking to Booxi, each case saying whether trying again can help.
/// Messages come from Booxi's `{message, code, error}` bodies or our own text, never the API key.
public enum BooxiError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound
    /// 409: Booxi refused the change (`BookingIsCompleted`, `BookingHasPassed`, `TimeTooEarly`,
    /// `TimeTooLate`, `StaffNotAvailable`, ...).
    case conflict(code: String, message: String)
    /// 400/422 and other 4xx: the request itself is wrong.
    case invalid(String)
    case unauthorized
    case rateLimited(retryAfter: Duration?)
    case server(status: Int)
    case transport(String)
    /// Booxi was not called: the caller's turn in our own fair-use queue (``BooxiScheduler``) did
    /// not come within its wait. Says nothing about Booxi's health.
    case budgetBusy(String, waited: Duration)

    public var isRetryable: Bool {
        switch self {
        case .rateLimited, .server, .transport, .budgetBusy: true
        case .notFound, .conflict, .invalid, .unauthorized: false
        }
    }

    public var retryAfter: Duration? {
        if case .rateLimited(let retryAfter) = self { return retryAfter }
        return nil
    }

    public var description: String {
        switch self {
        case .notFound: "Booxi: not found"
        case .conflict(let code, let message): "Booxi refused: \(code)\(message.isEmpty ? "" : " (\(message))")"
        case .invalid(let message): "Booxi: invalid request: \(message)"
        case .unauthorized: "Booxi: API key refused"
        case .rateLimited(let retryAfter): "Booxi: rate limited" + (retryAfter.map { ", retry after \($0)" } ?? "")
        case .server(let status): "Booxi: server error \(status)"
        case .transport(let message): "Booxi unreachable: \(message)"
        case .budgetBusy(let callClass, let waited):
            "Booxi not called: no turn in the fair-use budget after \(waited.milliseconds) ms (\(callClass) calls)"
        }
    }

    /// Whether Booxi itself is failing (transport errors, 5xx): what a 503 may be blamed on.
    public var isBooxiFailure: Bool {
        switch self {
        case .server, .transport: true
        default: false
        }
    }

    /// For a visitor-facing 503: which way Booxi is failing, without internals.
    public var outageMessage: String {
        switch self {
        case .server(let status): "the booking system (Booxi) is failing: it answered \(status); please try again shortly"
        case .transport: "the booking system (Booxi) cannot be reached right now; please try again shortly"
        default: "the booking system (Booxi) is not available right now; please try again shortly"
        }
    }

    /// A sentence for the tracking page's visitor, for refusals they can understand.
    public var visitorMessage: String {
        switch self {
        case .conflict(let code, _):
            switch code {
            case "BookingIsCompleted": "This appointment is already completed."
            case "BookingHasPassed": "This appointment has already passed."
            case "BookingIsCancelled": "This appointment is already cancelled."
            case "TimeTooEarly": "This time is too soon to book; please choose a later time."
            case "TimeTooLate": "This time is too far ahead; please choose an earlier time."
            case "StaffNotAvailable": "That time is no longer available; please choose another."
            default: "The business could not make this change."
            }
        case .notFound: "This appointment no longer exists."
        case .invalid: "The change was not accepted; please check the details."
        case .budgetBusy: "Many requests are being handled right now; please try again in a few minutes."
        default: "The booking system is not reachable right now; please try again later."
        }
    }
}
