import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Metrics
import Prometheus

/// `/healthz` (the process is alive): the one operational route a public listener keeps, for load
/// balancers.
public func addHealthRoute<Context: RequestContext>(to router: Router<Context>) {
    router.get("/healthz") { _, _ in
        jsonResponse(.ok, #"{"status":"ok"}"#)
    }
}

/// `/healthz`, `/readyz` (it can do its work: Redis answers) and `/metrics` (Prometheus text
/// format), the same on every role's operations listener (and the worker's only listener).
public func addOperationalRoutes<Context: RequestContext>(
    to router: Router<Context>, isReady: @escaping @Sendable () async -> Bool
) {
    addHealthRoute(to: router)
    router.get("/readyz") { _, _ in
        await isReady()
            ? jsonResponse(.ok, #"{"status":"ready"}"#)
            : jsonResponse(.serviceUnavailable, #"{"error":"redis unreachable","code":"not_ready"}"#)
    }
    router.get("/metrics") { _, _ in
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Observability.registry.emitToBuffer())))
    }
}

/// A JSON response from text the caller already encoded.
public func jsonResponse(_ status: HTTPResponse.Status, _ json: String, headers extra: HTTPFields = [:]) -> Response {
    jsonResponse(status, body: ByteBuffer(string: json), headers: extra)
}

public func jsonResponse(_ status: HTTPResponse.Status, bytes: [UInt8], headers extra: HTTPFields = [:]) -> Response {
    jsonResponse(status, body: ByteBuffer(bytes: bytes), headers: extra)
}

private func jsonResponse(_ status: HTTPResponse.Status, body: ByteBuffer, headers extra: HTTPFields) -> Response {
    var headers = extra
    headers[.contentType] = "application/json; charset=utf-8"
    headers[.cacheControl] = "no-store"
    return Response(status: status, headers: headers, body: .init(byteBuffer: body))
}

/// A role's operations listener: the operational routes on their own address (`<role>.opsHost`,
/// `<role>.opsPort`), loopback by default, so metrics and Redis' state are not on the public port.
public func buildOperationsApplication(
    host: String, port: Int, logger: Logger, isReady: @escaping @Sendable () async -> Bool,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = Router.forRole()
    router.add(middleware: JSONErrorMiddleware())
    addOperationalRoutes(to: router, isReady: isReady)
    return Application(
        router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
        onServerRunning: onServerRunning, logger: logger)
}
