/// A login by name and password: reserve an attempt with the throttle, and only then run bcrypt.
/// Apart from HTTP so a test can fire concurrent logins at it and count the checks.
struct ConsoleLogin: Sendable {
    let throttle: LoginThrottle
    let users: ConsoleUsers
    let sessions: ConsoleSessions

    /// A new session, or ``ConsoleError/loginThrottled(retryAfterSeconds:)`` (no password check
    /// ran) or ``ConsoleError/invalidCredentials``. Redis failures are thrown as they are.
    func logIn(user: String, password: String, address: String) async throws -> (id: String, session: ConsoleSessions.Session) {
        if case .throttled(let wait) = try await throttle.reserve(user: user, address: address) {
            throw ConsoleError.loginThrottled(retryAfterSeconds: wait)
        }
        guard try await users.verify(user: user, password: password) else { throw ConsoleError.invalidCredentials }
        try await throttle.succeeded(user: user, address: address)
        return try await sessions.create(user: user)
    }
}
