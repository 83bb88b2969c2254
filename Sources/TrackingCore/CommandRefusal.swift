/// Why a cancel or modify job ended `failed`, as the job's status records it. In the job's JSON
/// (and the API's job answer) it is one string: a change rule's code (`too_late`, …), Booxi's own
/// refusal code (`BookingIsCompleted`, `StaffNotAvailable`, …), or one of `Busy`, `Unavailable`,
/// `Refused`.
public enum CommandRefusal: Sendable, Equatable, Codable {
    /// Our change rules, checked by the worker when the API could not (details still being fetched).
    case rule(ChangeRefusal)
    /// Booxi refused the change with this code (its 409 answers).
    case booxi(code: String)
    /// Booxi's budget stayed full (our queue, or its 429s) until the job's last attempt.
    case busy
    /// Booxi kept failing (5xx, network) until the job's last attempt.
    case unavailable
    /// Booxi refused our request or our key (400, 401, 403): a fault on our side.
    case refused

    public var code: String {
        switch self {
        case .rule(let refusal): refusal.rawValue
        case .booxi(let code): code
        case .busy: "Busy"
        case .unavailable: "Unavailable"
        case .refused: "Refused"
        }
    }

    public init(code: String) {
        switch code {
        case "Busy": self = .busy
        case "Unavailable": self = .unavailable
        case "Refused": self = .refused
        default: self = ChangeRefusal(rawValue: code).map(CommandRefusal.rule) ?? .booxi(code: code)
        }
    }

    public init(from decoder: any Decoder) throws {
        self.init(code: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}
