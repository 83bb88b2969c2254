import HTTPSupport
import HTTPTypes
import RedisClient

/// Every failure the console answers, and its one HTTP form.
enum ConsoleError: HTTPMappedError {
    /// No session (or an expired one), and no trusted proxy user.
    case loginRequired
    case invalidCredentials
    /// Too many failed logins for this user or address; try again after this.
    case loginThrottled(retryAfterSeconds: Int)
    /// A state-changing request without the session's CSRF token.
    case csrfFailed
    case invalidBody(String)
    case notFound(String)
    case storeUnavailable(RedisError)

    var apiError: APIError {
        switch self {
        case .loginRequired: APIError(.unauthorized, code: "login_required", "log in first: POST /console/api/session")
        case .invalidCredentials: APIError(.unauthorized, code: "invalid_credentials", "unknown user or wrong password")
        case .loginThrottled(let seconds):
            APIError(.tooManyRequests, code: "login_throttled", "too many failed logins; try again later", headers: [.retryAfter: String(seconds)])
        case .csrfFailed: APIError(.forbidden, code: "csrf_failed", "missing or wrong X-CSRF-Token header for this session")
        case .invalidBody(let expected): APIError(.badRequest, code: "invalid_body", "expected \(expected)")
        case .notFound(let what): APIError(.notFound, code: "not_found", "no such \(what)")
        case .storeUnavailable(let error): .unavailable("Redis is unavailable right now", retryAfterSeconds: 5, cause: "Redis: \(error)")
        }
    }

    static var everyCase: [ConsoleError] {
        [.loginRequired, .invalidCredentials, .loginThrottled(retryAfterSeconds: 60), .csrfFailed, .invalidBody("x"), .notFound("x"),
         .storeUnavailable(.connection("refused"))]
    }
}
