import HTTPSupport

/// The simulator's control routes' refusals (`/simulator/...`, ours, not Booxi's shape).
enum SimulatorControlError: HTTPMappedError {
    case invalidStartsOn
    case invalidBooking
    case noSuchBooking

    var apiError: APIError {
        switch self {
        case .invalidStartsOn: APIError(.badRequest, code: "invalid_starts_on", "startsOn must be ISO-8601")
        case .invalidBooking: APIError(.badRequest, code: "invalid_booking", "cannot create this booking")
        case .noSuchBooking: APIError(.notFound, code: "not_found", "no such booking")
        }
    }

    static var everyCase: [SimulatorControlError] { [.invalidStartsOn, .invalidBooking, .noSuchBooking] }
}
