import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import TrackingConfig

/// Who is asking, for every console page and endpoint but `/healthz`: a session cookie (set by
/// `POST /console/api/session`), or a user named by `console.trustedUserHeader` from a trusted
/// proxy. Every state-changing request must also carry the session's CSRF token.
struct ConsoleAuth: Sendable {
    let sessions: ConsoleSessions
    let login: ConsoleLogin
    let settings: ConsoleSettings
    let addresses: ClientAddressResolver
    let userHeader: HTTPField.Name?

    struct Operator: Sendable {
        var user: String
        var sessionID: String?
        var csrf: String?
    }

    static let csrfHeader = HTTPField.Name("x-csrf-token")!
    static let forwardedProto = HTTPField.Name("x-forwarded-proto")!
    /// Sent by the overview's automatic refresh (`console.js`): such a request does not count as
    /// the operator's activity, so an open tab still goes idle.
    static let refreshHeader = HTTPField.Name("x-console-refresh")!

    init(login: ConsoleLogin, settings: ConsoleSettings) {
        self.sessions = login.sessions
        self.login = login
        self.settings = settings
        addresses = ClientAddressResolver(trustedProxies: settings.trustedProxies)
        userHeader = settings.trustedUserHeader.isEmpty ? nil : HTTPField.Name(settings.trustedUserHeader)
    }

    /// Who the login throttle counts: the client's address, an IPv6 client by its /64.
    func clientBucket(_ request: Request, _ context: AppRequestContext) -> String {
        addresses.clientBucket(peer: context.remoteAddress, headers: request.headers).key
    }

    /// The operator behind the request, or nil.
    func current(_ request: Request, _ context: AppRequestContext) async throws -> Operator? {
        let cookie = Self.cookie(request.headers[.cookie])
        let touch = request.headers[Self.refreshHeader] == nil
        let session = try await cookie.asyncFlatMap { try await sessions.session($0, touch: touch) }
        if let proxyUser = proxyUser(request, context) {
            // The proxy decides who this is; a session of the same user carries the CSRF token.
            let matching = session?.user == proxyUser ? session : nil
            return Operator(user: proxyUser, sessionID: matching == nil ? nil : cookie, csrf: matching?.csrf)
        }
        guard let session, let cookie else { return nil }
        return Operator(user: session.user, sessionID: cookie, csrf: session.csrf)
    }

    /// The operator, for a request that needs one; with `changing`, its CSRF token checked too.
    func require(_ request: Request, _ context: AppRequestContext, changing: Bool = false) async throws -> Operator {
        guard let who = try await current(request, context) else { throw ConsoleError.loginRequired }
        if changing {
            guard let expected = who.csrf, let sent = request.headers[Self.csrfHeader],
                ConstantTime.equal(Array(expected.utf8), Array(sent.utf8))
            else { throw ConsoleError.csrfFailed }
        }
        return who
    }

    func proxyUser(_ request: Request, _ context: AppRequestContext) -> String? {
        guard let userHeader, let peer = context.remoteAddress?.ipAddress, addresses.isTrusted(peer),
            let user = request.headers[userHeader]?.trimmingCharacters(in: .whitespaces), !user.isEmpty
        else { return nil }
        return String(user.prefix(128))
    }

    /// The session cookie: `HttpOnly`, `SameSite=Strict`, scoped to `/console`, and `Secure` when
    /// operators come over TLS (`console.publicUrl` is https, or a trusted proxy says so).
    func setCookie(_ id: String, _ request: Request, _ context: AppRequestContext) -> String {
        let viaTLSProxy = context.remoteAddress?.ipAddress.map(addresses.isTrusted) == true && request.headers[Self.forwardedProto] == "https"
        let secure = settings.publicURL.hasPrefix("https://") || viaTLSProxy
        return "\(ConsoleSessions.cookie)=\(id); Path=/console; HttpOnly; SameSite=Strict; Max-Age=\(settings.sessionTTL.components.seconds)"
            + (secure ? "; Secure" : "")
    }

    func clearCookie() -> String {
        "\(ConsoleSessions.cookie)=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0"
    }

    static func cookie(_ header: String?) -> String? {
        for part in (header ?? "").split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0] == ConsoleSessions.cookie { return pair[1] }
        }
        return nil
    }
}

extension Optional {
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
