import Foundation

/// The operations console (`console.*`): its own listener, never the visitor-facing one, and who
/// may log in.
public struct ConsoleSettings: Sendable {
    public var host: String
    public var port: Int
    /// Where operators reach it; `https://…` marks the session cookie `Secure`.
    public var publicURL: String
    /// A session ends at `sessionTTL` after login, or `sessionIdleTimeout` after its last use.
    public var sessionTTL: Duration
    public var sessionIdleTimeout: Duration
    /// With an authenticating proxy in front: the header naming the user (`X-Forwarded-User`),
    /// honoured only from `trustedProxies`. Empty: off.
    public var trustedUserHeader: String
    public var trustedProxies: [String]
    /// Failed logins allowed within `loginWindow`: per user from one address, per address, and
    /// per user from every address (far higher, so a stranger cannot lock a user out by name).
    public var loginFailuresPerUser: Int
    public var loginFailuresPerAddress: Int
    public var loginFailuresPerUserAnyAddress: Int
    public var loginWindow: Duration
    /// The listener's limits against slow, idle and too many clients, as the public listeners'.
    public var edge: EdgeSettings

    init(settings s: SettingsReader) throws {
        host = try s.string("console.host")
        port = try s.int("console.port", in: 0...65535)
        publicURL = try s.string("console.publicUrl")
        sessionTTL = .seconds(60 * (try s.int("console.sessionTtlMinutes", in: 1...(7 * 1440))))
        sessionIdleTimeout = .seconds(60 * (try s.int("console.sessionIdleMinutes", in: 1...(7 * 1440))))
        trustedUserHeader = try s.string("console.trustedUserHeader")
        trustedProxies = try s.stringList("console.trustedProxies")
        if !trustedUserHeader.isEmpty && trustedProxies.isEmpty {
            throw ConfigurationError(key: "console.trustedProxies", reason: "console.trustedUserHeader is set, so name the proxies it may come from")
        }
        loginFailuresPerUser = try s.int("console.loginFailuresPerUser", in: 1...1000)
        loginFailuresPerAddress = try s.int("console.loginFailuresPerAddress", in: 1...10_000)
        loginFailuresPerUserAnyAddress = try s.int("console.loginFailuresPerUserAnyAddress", in: 1...1_000_000)
        loginWindow = .seconds(60 * (try s.int("console.loginWindowMinutes", in: 1...1440)))
        edge = try EdgeSettings(settings: s, role: "console")
    }
}
