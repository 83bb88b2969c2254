import Foundation

/// The operations console (`console.*`): its own listener, never the visitor-facing one, and who
/// may log in.
public struct ConsoleSettings: Sendable {
    public var host: String
    public var port: Int
    /// Where operators reach it; `https://…` marks the session cookie `Secure`.
    public var publicURL: String
    public var sessionTTL: Duration
    /// With an authenticating proxy in front: the header naming the user (`X-Forwarded-User`),
    /// honoured only from `trustedProxies`. Empty: off.
    public var trustedUserHeader: String
    public var trustedProxies: [String]
    /// Failed logins allowed per user name and per client address within `loginWindow`.
    public var loginFailuresPerUser: Int
    public var loginFailuresPerAddress: Int
    public var loginWindow: Duration

    init(settings s: SettingsReader) throws {
        host = try s.string("console.host")
        port = try s.int("console.port", in: 0...65535)
        publicURL = try s.string("console.publicUrl")
        sessionTTL = .seconds(60 * (try s.int("console.sessionTtlMinutes", in: 1...(7 * 1440))))
        trustedUserHeader = try s.string("console.trustedUserHeader")
        trustedProxies = try s.stringList("console.trustedProxies")
        if !trustedUserHeader.isEmpty && trustedProxies.isEmpty {
            throw ConfigurationError(key: "console.trustedProxies", reason: "console.trustedUserHeader is set, so name the proxies it may come from")
        }
        loginFailuresPerUser = try s.int("console.loginFailuresPerUser", in: 1...1000)
        loginFailuresPerAddress = try s.int("console.loginFailuresPerAddress", in: 1...10_000)
        loginWindow = .seconds(60 * (try s.int("console.loginWindowMinutes", in: 1...1440)))
    }
}
