/// Why an operator action did not run, in terms the console maps to HTTP and the CLI prints.
public enum OperatorActionError: Error, Equatable, CustomStringConvertible {
    /// The target is gone or never was: `booking`, `dead letter` or `delayed job`.
    case notFound(String)
    /// Typed text is a code of one booking and the id of another.
    case ambiguousBooking(byCode: String, byBookingID: String)

    public var description: String {
        switch self {
        case .notFound(let what): "no such \(what)"
        case .ambiguousBooking(let byCode, let byBookingID):
            "ambiguous: a tracking code of booking \(byCode), and booking id \(byBookingID); name it by code or by booking id"
        }
    }
}
