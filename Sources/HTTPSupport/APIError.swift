import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Every error any role answers: a status and `{"error": "<message>", "code": "<code>"}`.
/// Messages are written for the caller and never carry secrets or personal data.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public var headers: HTTPFields
    /// What really went wrong, for the log line every 5xx gets (``JSONErrorMiddleware``); never
    /// sent to the caller.
    public var cause: String?

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, headers: HTTPFields = [:], cause: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.cause = cause
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: responseHeaders, body: .init(byteBuffer: body))
    }

    /// `{"code", "error"}`, the one JSON form of every error.
    public var body: ByteBuffer {
        let json = (try? JSONSerialization.data(withJSONObject: ["error": message, "code": code], options: [.sortedKeys])) ?? Data()
        return ByteBuffer(bytes: json)
    }

    public var responseHeaders: HTTPFields {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return headers
    }

    /// 503 with `Retry-After`: the caller should try again, nothing was accepted.
    public static func unavailable(_ message: String, retryAfterSeconds: Int, code: String = "unavailable", cause: String? = nil) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(retryAfterSeconds)
        return APIError(.serviceUnavailable, code: code, message, headers: headers, cause: cause)
    }

    /// 429 with `Retry-After`.
    public static func rateLimited(retryAfterSeconds: Int) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(max(1, retryAfterSeconds))
        return APIError(.tooManyRequests, code: "rate_limited", "too many requests, retry later", headers: headers)
    }

    /// 202 with `Retry-After`: accepted, ask again later (not an error, but answered in the same form).
    public static func accepted(_ code: String, _ message: String, retryAfterSeconds: Int) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(retryAfterSeconds)
        return APIError(.accepted, code: code, message, headers: headers)
    }
}

/// Turns errors thrown by routes or Hummingbird itself (body too large, bad request) into our JSON
/// shape, so no error leaves in another format; writes one log line for every 5xx, with its cause.
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            do {
                return try await next(request, context)
            } catch let error as any HTTPMappedError {
                throw error.apiError
            }
        } catch let error as APIError {
            if error.status.code >= 500 {
                context.logger.error(
                    "answered \(error.status.code) \(error.code)",
                    metadata: [
                        "path": "\(request.uri.path.prefix(while: { $0 != "?" }).split(separator: "/").prefix(2).joined(separator: "/"))",
                        "cause": "\(error.cause ?? error.message)",
                    ])
            }
            throw error
        } catch let error as HTTPError {
            throw APIError(error.status, code: Self.code(for: error.status), error.body ?? error.status.reasonPhrase)
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, code: Self.code(for: error.status), error.status.reasonPhrase)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(type(of: error))"])
            throw APIError(.internalServerError, code: "internal", "internal error")
        }
    }

    /// The statuses Hummingbird raises by itself, each answered with ``code(for:)`` (and 500
    /// `internal` for an error no mapping knows).
    public static var frameworkStatuses: [HTTPResponse.Status] {
        [
            .badRequest, .unauthorized, .forbidden, .notFound, .methodNotAllowed, .contentTooLarge, .unsupportedMediaType,
            .tooManyRequests, .serviceUnavailable,
        ]
    }

    /// The codes of errors Hummingbird itself raises (no route, wrong method, body too large, …).
    public static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthorized"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 413: "body_too_large"
        case 415: "unsupported_media_type"
        case 429: "rate_limited"
        case 503: "unavailable"
        default: "http_\(status.code)"
        }
    }
}
