import CompressNIO
import Crypto
import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import NIOCore
import TrackingConfig
import TrackingCore

/// The tracking page at `/track/:code`, built once at start from the module's resources:
/// - per language, the HTML with its strings, the stylesheet inline (allowed by its hash in the
///   CSP) and the configuration as a JSON data block (not a script), so the first render needs
///   only the script and the booking after the HTML;
/// - the script under a content-hashed name (`/assets/tracking.<hash>.js`), cached for a year;
/// - each body gzip-compressed once, sent compressed when the client accepts it, with an `ETag`.
struct TrackingPage: Sendable {
    /// A body ready to send: plain, gzip, and its entity tag.
    struct Asset: Sendable {
        let plain: ByteBuffer
        let gzip: ByteBuffer
        let etag: String

        init(_ bytes: [UInt8]) throws {
            plain = ByteBuffer(bytes: bytes)
            var source = plain
            gzip = try source.compress(with: .gzip())
            etag = "\"" + SHA256.hash(data: bytes).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
        }
    }

    let catalog: MessageCatalog
    let pages: [String: Asset]
    let script: Asset
    let scriptPath: String
    let contentSecurityPolicy: String

    init(settings: PageSettings, catalog: MessageCatalog, frameAncestors: String) throws {
        guard let folder = Bundle.module.resourceURL?.appendingPathComponent("Page") else { throw PageError.missingResources }
        func load(_ name: String) throws -> String {
            String(decoding: try Data(contentsOf: folder.appendingPathComponent(name)), as: UTF8.self)
        }
        let template = try load("index.html")
        let css = try load("tracking.css")
        script = try Asset(Array(try load("tracking.js").utf8))
        scriptPath = "/assets/tracking.\(script.etag.dropFirst().prefix(12)).js"
        self.catalog = catalog
        var pages: [String: Asset] = [:]
        for language in catalog.available {
            let html = try Self.render(template, css: css, scriptPath: scriptPath, language: language, settings: settings, catalog: catalog)
            pages[language] = try Asset(Array(html.utf8))
        }
        self.pages = pages
        let styleHash = "'sha256-" + Data(SHA256.hash(data: Data(css.utf8))).base64EncodedString() + "'"
        let widget = PageSettings.origin(of: settings.widgetScriptURL).map { " " + $0 } ?? ""
        let logo = PageSettings.origin(of: settings.logoURL).map { " " + $0 } ?? ""
        contentSecurityPolicy =
            "default-src 'self'; script-src 'self'\(widget); style-src 'self' \(styleHash)\(widget); img-src 'self' data:\(logo)\(widget); "
            + "connect-src 'self'\(widget); frame-src\(widget.isEmpty ? " 'none'" : widget); object-src 'none'; base-uri 'none'; "
            + "form-action 'none'; frame-ancestors \(frameAncestors)"
    }

    enum PageError: Error { case missingResources }

    /// The HTML for one language: `{{t:key}}` strings (HTML-escaped), the inline stylesheet,
    /// the script's hashed path, and the configuration with every string for the script.
    static func render(
        _ template: String, css: String, scriptPath: String, language: String, settings: PageSettings, catalog: MessageCatalog
    ) throws -> String {
        let messages = catalog.messages(language)
        let config: [String: Any] = [
            "businessName": settings.businessName, "logoUrl": settings.logoURL, "primaryColor": settings.primaryColor,
            "supportContact": settings.supportContact, "language": language, "modifyMode": settings.modifyMode.rawValue,
            "widgetScriptUrl": settings.widgetScriptURL, "widgetApiKey": settings.widgetAPIKey, "bookingUrl": settings.bookingURL,
            "messages": messages,
        ]
        // `<` escaped, so no text in the block can close it.
        let json = String(decoding: try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]), as: UTF8.self)
            .replacingOccurrences(of: "<", with: "\\u003c")
        var html =
            template
            .replacingOccurrences(of: "{{lang}}", with: escape(language))
            .replacingOccurrences(of: "{{css}}", with: css)
            .replacingOccurrences(of: "{{script}}", with: scriptPath)
            .replacingOccurrences(of: "{{config}}", with: json)
        while let range = html.range(of: #"\{\{t:[A-Za-z0-9_.]+\}\}"#, options: .regularExpression) {
            let key = String(html[range].dropFirst(4).dropLast(2))
            html.replaceSubrange(range, with: escape(messages[key] ?? key))
        }
        return html
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("track/:code") { request, context in
            // What cannot be a tracking code is the API's 404, not a page: an unknown code of the
            // right shape still gets the page (which then asks the API), so only the public shape rule shows.
            guard let text = context.parameters.get("code"), TrackingCode(text) != nil else { throw ReadAPIError.notFound }
            let language = catalog.language(for: request.headers[.acceptLanguage])
            let page = pages[language] ?? pages[MessageCatalog.fallback]!
            return respond(page, to: request, type: "text/html; charset=utf-8", cacheControl: "no-cache", vary: "Accept-Encoding, Accept-Language")
        }
        router.get(RouterPath(String(scriptPath.dropFirst()))) { request, _ in
            respond(
                script, to: request, type: "text/javascript; charset=utf-8", cacheControl: "public, max-age=31536000, immutable",
                vary: "Accept-Encoding")
        }
    }

    /// The asset, gzip when accepted, 304 when the client holds this version.
    private func respond(_ asset: Asset, to request: Request, type: String, cacheControl: String, vary: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = cacheControl
        headers[.eTag] = asset.etag
        headers[.vary] = vary
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        if let held = request.headers[.ifNoneMatch],
            held.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag })
        {
            return Response(status: .notModified, headers: headers)
        }
        if Self.acceptsGzip(request.headers[.acceptEncoding]) {
            headers[.contentEncoding] = "gzip"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.gzip))
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.plain))
    }

    /// `gzip` listed in `Accept-Encoding` without `q=0`.
    static func acceptsGzip(_ header: String?) -> Bool {
        (header ?? "").split(separator: ",").contains { part in
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            return (pieces.first == "gzip" || pieces.first == "*") && !pieces.dropFirst().contains { $0 == "q=0" || $0 == "q=0.0" || $0 == "q=0.00" }
        }
    }
}
