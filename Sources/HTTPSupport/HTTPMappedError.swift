import HTTPTypes
import Hummingbird

/// A role's domain error (`IngressError`, `ReadAPIError`, …): each case says once, in its
/// ``apiError``, what it is over HTTP. ``JSONErrorMiddleware`` answers it as `{"error", "code"}`;
/// no route builds an ``APIError`` by hand.
public protocol HTTPMappedError: HTTPResponseError, Sendable {
    /// Status, code, sentence for the caller, headers, and the cause for the 5xx log line.
    var apiError: APIError { get }
    /// One value of every case, so a test can check the documented codes against the mapping.
    static var everyCase: [Self] { get }
}

extension HTTPMappedError {
    public var status: HTTPResponse.Status { apiError.status }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try apiError.response(from: request, context: context)
    }
}

/// Errors the shared HTTP layer itself answers.
public enum EdgeError: HTTPMappedError {
    /// A request head larger than `<role>.edge.maxHeaderBytes` (answered by ``EdgeGuard``).
    case headersTooLarge(limit: Int)

    public var apiError: APIError {
        switch self {
        case .headersTooLarge(let limit):
            APIError(.init(code: 431), code: "headers_too_large", "the request head is larger than \(limit) bytes")
        }
    }

    public static var everyCase: [EdgeError] { [.headersTooLarge(limit: 16_384)] }
}
