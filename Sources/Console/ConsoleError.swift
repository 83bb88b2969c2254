import HTTPSupport
import HTTPTypes
import Operations
import RedisClient

/// Every failure the console answers, and its one HTTP form.
enum ConsoleError: HTTPMappedError {
    /// No session (or an expired one), and no trusted proxy user.
    case loginRequired
    case invalidCredentials
    /// Too many failed logins (``LoginThrottle``); no password was checked. Try again after this.
    case loginThrottled(retryAfterSeconds: Int)
    /// A state-changing request without the session's CSRF token.
    case csrfFailed
    case invalidBody(String)
    case notFound(String)
    /// Search text that is a tracking code of one booking and the id of another.
    case ambiguousBooking(String)
    case storeUnavailable(RedisError)

    init(_ refusal: OperatorActionError) {
        switch refusal {
        case .notFound(let what): self = .notFound(what)
        case .ambiguousBooking: self = .ambiguousBooking("\(refusal)")
        }
    }

    var apiError: APIError {
        switch self {
        case .loginRequired: APIError(.unauthorized, code: "login_required", "log in first: POST /console/api/session")
        case .invalidCredentials: APIError(.unauthorized, code: "invalid_credentials", "unknown user or wrong password")
        case .loginThrottled(let seconds):
            APIError(.tooManyRequests, code: "login_throttled", "too many failed logins; try again later", headers: [.retryAfter: String(seconds)])
        case .csrfFailed: APIError(.forbidden, code: "csrf_failed", "missing or wrong X-CSRF-Token header for this session")
        case .invalidBody(let expected): APIError(.badRequest, code: "invalid_body", "expected \(expected)")
        case .notFound(let what): APIError(.notFound, code: "not_found", "no such \(what)")
        case .ambiguousBooking(let message): APIError(.conflict, code: "ambiguous_booking", message)
        case .storeUnavailable(let error): .unavailable("Redis is unavailable right now", retryAfterSeconds: 5, cause: "Redis: \(error)")
        }
    }

    static var everyCase: [ConsoleError] {
        [
            .loginRequired, .invalidCredentials, .loginThrottled(retryAfterSeconds: 60), .csrfFailed, .invalidBody("x"), .notFound("x"),
            .ambiguousBooking("x"), .storeUnavailable(.connection("refused")),
        ]
    }
}
