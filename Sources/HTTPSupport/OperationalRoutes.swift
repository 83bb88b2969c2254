import HTTPTypes
import Hummingbird
import NIOCore
import Metrics
import Prometheus

/// `/healthz` (the process is alive), `/readyz` (it can do its work: Redis answers) and
/// `/metrics` (Prometheus text format), the same on every role.
public func addOperationalRoutes<Context: RequestContext>(
    to router: Router<Context>, isReady: @escaping @Sendable () async -> Bool
) {
    router.get("/healthz") { _, _ in
        jsonResponse(.ok, #"{"status":"ok"}"#)
    }
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
