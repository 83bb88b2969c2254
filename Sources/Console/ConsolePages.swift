import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import NIOCore

/// The console's pages: plain HTML, CSS and JavaScript shipped as the module's resources (no
/// build step, no CDN). Every page but the login form needs an operator; without one the browser
/// is sent to the login form.
struct ConsolePages: Sendable {
    static let pages = ["", "workers", "dead-letters", "retries", "timeline", "audit"]
    let auth: ConsoleAuth
    let shell: ByteBuffer
    let login: ByteBuffer
    let assets: [String: (body: ByteBuffer, type: String)]

    init(auth: ConsoleAuth) throws {
        guard let folder = Bundle.module.resourceURL?.appendingPathComponent("Page") else { throw PageError.missingResources }
        func load(_ name: String) throws -> ByteBuffer { ByteBuffer(bytes: try Data(contentsOf: folder.appendingPathComponent(name))) }
        self.auth = auth
        shell = try load("console.html")
        login = try load("login.html")
        assets = [
            "console.css": (try load("console.css"), "text/css; charset=utf-8"),
            "console.js": (try load("console.js"), "text/javascript; charset=utf-8"),
            "login.js": (try load("login.js"), "text/javascript; charset=utf-8"),
        ]
    }

    enum PageError: Error { case missingResources }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("console/login") { _, _ in html(login) }
        // Browsers ask for it on every page; there is none.
        router.get("favicon.ico") { _, _ in Response(status: .noContent) }
        for (name, asset) in assets {
            router.get(RouterPath("console/assets/\(name)")) { _, _ in
                var headers = HTTPFields()
                headers[.contentType] = asset.type
                headers[.cacheControl] = "no-cache"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
            }
        }
        for page in Self.pages {
            router.get(RouterPath(page.isEmpty ? "console" : "console/\(page)")) { request, context in
                guard try await auth.current(request, context) != nil else {
                    var headers = HTTPFields()
                    headers[.location] = "/console/login"
                    headers[.cacheControl] = "no-store"
                    return Response(status: .seeOther, headers: headers)
                }
                return html(shell)
            }
        }
    }

    private func html(_ body: ByteBuffer) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}

/// Security headers on every console response: a strict CSP (nothing but this server, no inline
/// script or style), no framing, no referrer, no sniffing, nothing cached.
struct ConsoleHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; "
        + "base-uri 'none'; frame-ancestors 'none'"
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let frameOptions = HTTPField.Name("X-Frame-Options")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[Self.referrerPolicy] = "no-referrer"
        response.headers[Self.frameOptions] = "DENY"
        return response
    }
}
