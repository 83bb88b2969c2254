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
        redis: redis, prefix: configuration.keyPrefix + "console:", ttl: settings.sessionTTL,
        failuresPerUser: settings.loginFailuresPerUser, failuresPerAddress: settings.loginFailuresPerAddress, window: settings.loginWindow)
    let auth = ConsoleAuth(sessions: sessions, users: users, settings: settings)
    let router = Router.forRole()
    router.add(middleware: ConsoleHeadersMiddleware())
    router.add(middleware: JSONErrorMiddleware())
    addHealthRoute(to: router)
    ConsoleAPI(operations: OperationsStore(configuration: configuration, redis: redis), auth: auth).addRoutes(to: router)
    try ConsolePages(auth: auth).addRoutes(to: router)
    return [
        Application(
            router: router, configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
            onServerRunning: onServerRunning, logger: logger)
    ]
}

/// `booxi-tracking console hash-password`: the bcrypt hash of a password, for `BXT_CONSOLE_USERS`.
public func consolePasswordHash(_ password: String) -> String { ConsoleUsers.hash(password) }
