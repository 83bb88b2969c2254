import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import NIOCore
import TrackingConfig

/// The tracking page at `/track/:code`: static HTML, CSS and JavaScript shipped as the module's
/// resources and read once at start, the branding at `/api/page-config`, and a strict CSP that
/// allows scripts only from this server and the Booxi widget's origin (no inline script).
struct TrackingPage: Sendable {
    let settings: PageSettings
    let html: ByteBuffer
    let css: ByteBuffer
    let javascript: ByteBuffer
    let contentSecurityPolicy: String

    init(settings: PageSettings, frameAncestors: String) throws {
        self.settings = settings
        guard let folder = Bundle.module.resourceURL?.appendingPathComponent("Page") else { throw PageError.missingResources }
        func load(_ name: String) throws -> ByteBuffer {
            ByteBuffer(bytes: try Data(contentsOf: folder.appendingPathComponent(name)))
        }
        html = try load("index.html")
        css = try load("tracking.css")
        javascript = try load("tracking.js")
        let widget = PageSettings.origin(of: settings.widgetScriptURL).map { " " + $0 } ?? ""
        let logo = PageSettings.origin(of: settings.logoURL).map { " " + $0 } ?? ""
        contentSecurityPolicy =
            "default-src 'self'; script-src 'self'\(widget); style-src 'self'\(widget); img-src 'self' data:\(logo)\(widget); "
            + "connect-src 'self'\(widget); frame-src\(widget.isEmpty ? " 'none'" : widget); object-src 'none'; base-uri 'none'; "
            + "form-action 'none'; frame-ancestors \(frameAncestors)"
    }

    enum PageError: Error { case missingResources }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("track/:code") { _, _ in asset(html, type: "text/html; charset=utf-8") }
        router.get("assets/tracking.css") { _, _ in asset(css, type: "text/css; charset=utf-8") }
        router.get("assets/tracking.js") { _, _ in asset(javascript, type: "text/javascript; charset=utf-8") }
        router.get("api/page-config") { request, _ in
            let config: [String: String] = [
                "businessName": settings.businessName, "logoUrl": settings.logoURL, "primaryColor": settings.primaryColor,
                "supportContact": settings.supportContact, "language": language(for: request), "timeZone": settings.timeZone,
                "modifyMode": settings.modifyMode.rawValue, "widgetScriptUrl": settings.widgetScriptURL,
            ]
            return jsonResponse(.ok, bytes: Array(try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])))
        }
    }

    private func asset(_ body: ByteBuffer, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    /// `page.language`, or for `auto` the first of `Accept-Language` we ship (English otherwise).
    func language(for request: Request) -> String {
        guard settings.language == .auto else { return settings.language.rawValue }
        let accepted = (request.headers[.acceptLanguage] ?? "").split(separator: ",").map {
            $0.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        }
        for tag in accepted {
            if tag.hasPrefix("fr") { return "fr" }
            if tag.hasPrefix("en") { return "en" }
        }
        return "en"
    }
}
