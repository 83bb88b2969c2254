import Foundation
import HTTPSupport
import Hummingbird
import Logging
import NIOCore
import Operations
import RedisClient
import ServiceLifecycle
import TrackingConfig

/// Builds the `console` role: the operations console on its own listener (`console.host`,
/// `console.port`; loopback by default), never on the visitor-facing one.
public func buildConsoleServices(
    configuration: AppConfiguration, redis: RedisClient, logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> [any Service] {
    let settings = configuration.console
    let users = ConsoleUsers(entries: configuration.secrets.consoleUsers)
    if users.hashes.isEmpty && settings.trustedUserHeader.isEmpty {
        throw ConfigurationError(
            key: "secrets.consoleUsers",
            reason: "no console user: set BXT_CONSOLE_USERS (name:hash, from `booxi-tracking console hash-password`) or console.trustedUserHeader")
    }
    let sessions = ConsoleSessions(
        redis: redis, prefix: configuration.keyPrefix + "console:", ttl: settings.sessionTTL, idle: settings.sessionIdleTimeout)
    let throttle = LoginThrottle(
        redis: redis, prefix: configuration.keyPrefix + "console:{login}:", perUserAndAddress: settings.loginFailuresPerUser,
        perAddress: settings.loginFailuresPerAddress, perUser: settings.loginFailuresPerUserAnyAddress, window: settings.loginWindow)
    let auth = ConsoleAuth(login: ConsoleLogin(throttle: throttle, users: users, sessions: sessions), settings: settings)
    let router = Router.forRole()
    router.add(middleware: ConsoleHeadersMiddleware())
    router.add(middleware: JSONErrorMiddleware())
    addHealthRoute(to: router)
    ConsoleAPI(operations: OperationsStore(configuration: configuration, redis: redis), auth: auth).addRoutes(to: router)
    try ConsolePages(auth: auth).addRoutes(to: router)
    // The same edge guard as the public listeners: an operator's browser needs no more, and the
    // listener may be reachable by more than operators (a proxy, a shared network).
    let edge = EdgeGuard(limits: settings.edge, listener: "console", clientAddress: auth.addresses, logger: logger)
    return [
        Application(
            router: router, server: .publicHTTP1(edge), configuration: .publicListener(host: settings.host, port: settings.port),
            onServerRunning: onServerRunning, logger: logger)
    ]
}

/// `booxi-tracking console hash-password`: the bcrypt hash of a password, for `BXT_CONSOLE_USERS`.
public func consolePasswordHash(_ password: String) -> String { ConsoleUsers.hash(password) }
