import HTTPSupport
import HTTPTypes
import Hummingbird

/// Security headers on every response (docs/architecture.md §5), `Strict-Transport-Security` when the page is
/// served over https, and CORS for the configured origins only (same-origin when none is
/// configured: no CORS headers at all; a preflight from any other origin is refused).
struct ResponseHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let allowedOrigins: Set<String>
    let contentSecurityPolicy: String
    /// `max-age=…` when `api.publicUrl` is https and HSTS is on.
    let strictTransportSecurity: String?
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let strictTransportSecurityName = HTTPField.Name("Strict-Transport-Security")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let origin = request.headers[.origin].flatMap { allowedOrigins.contains($0) ? $0 : nil }
        var response: Response
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            response = try preflight(origin: origin, request, context)
        } else {
            do {
                response = try await next(request, context)
            } catch let error as any HTTPResponseError {
                response = try error.response(from: request, context: context)
            }
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[Self.referrerPolicy] = "no-referrer"
        if response.headers[.contentSecurityPolicy] == nil { response.headers[.contentSecurityPolicy] = contentSecurityPolicy }
        if let origin { addCORS(&response.headers, origin: origin) }
        if let strictTransportSecurity { response.headers[Self.strictTransportSecurityName] = strictTransportSecurity }
        return response
    }

    /// A CORS preflight: allowed for the configured origins, refused for any other.
    private func preflight(origin: String?, _ request: Request, _ context: Context) throws -> Response {
        guard origin != nil else {
            return try ReadAPIError.corsRefused.apiError.response(from: request, context: context)
        }
        var response = Response(status: .noContent)
        response.headers[.accessControlAllowMethods] = "GET, HEAD, POST, OPTIONS"
        response.headers[.accessControlAllowHeaders] = "content-type"
        response.headers[.accessControlMaxAge] = "600"
        return response
    }

    private func addCORS(_ headers: inout HTTPFields, origin: String) {
        headers[.accessControlAllowOrigin] = origin
        headers[.vary] = "Origin"
    }
}
