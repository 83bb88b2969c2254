import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import NIOCore

/// The token endpoint's errors, in the form RFC 6749 §5.2 prescribes, so a standard OAuth2 client
/// library reads them: `{"error": "<code>", "error_description": "<sentence>"}`, with
/// `Cache-Control: no-store`. The one place they become HTTP (not the `{"error", "code"}` form of
/// every other answer, which OAuth clients would misread).
enum OAuthError: Error, Equatable {
    /// Client authentication failed. `basic`: the client tried HTTP Basic, so the 401 names that
    /// scheme in `WWW-Authenticate` (§5.2: MUST).
    case invalidClient(basic: Bool)
    case unsupportedGrantType
    case invalidRequest(String)
    /// Redis could not store the token: not defined for the token endpoint by §5.2, so the code
    /// RFC 6749 uses for the same condition elsewhere (§4.1.2.1), with 503 and `Retry-After`.
    case temporarilyUnavailable(retryAfterSeconds: Int)
    /// Too many token requests from one address (``OAuthTokenEndpoint/attemptsPerMinute``): 429
    /// with `Retry-After`, under the code RFC 8628 §3.5 gives a client that should slow down.
    case slowDown(retryAfterSeconds: Int)

    var status: HTTPResponse.Status {
        switch self {
        case .invalidClient: .unauthorized
        case .unsupportedGrantType, .invalidRequest: .badRequest
        case .temporarilyUnavailable: .serviceUnavailable
        case .slowDown: .tooManyRequests
        }
    }

    var code: String {
        switch self {
        case .invalidClient: "invalid_client"
        case .unsupportedGrantType: "unsupported_grant_type"
        case .invalidRequest: "invalid_request"
        case .temporarilyUnavailable: "temporarily_unavailable"
        case .slowDown: "slow_down"
        }
    }

    var description: String {
        switch self {
        case .invalidClient: "client authentication failed"
        case .unsupportedGrantType: "grant_type must be client_credentials"
        case .invalidRequest(let why): why
        case .temporarilyUnavailable: "cannot issue a token now, retry later"
        case .slowDown: "too many token requests from this address, retry later"
        }
    }

    func response() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Pragma")!] = "no-cache"
        switch self {
        case .invalidClient(basic: true): headers[.wwwAuthenticate] = #"Basic realm="booxi-tracking webhooks""#
        case .temporarilyUnavailable(let seconds), .slowDown(let seconds): headers[.retryAfter] = String(seconds)
        default: break
        }
        let body = (try? JSONSerialization.data(withJSONObject: ["error": code, "error_description": description], options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static var everyCase: [OAuthError] {
        [
            .invalidClient(basic: true), .invalidClient(basic: false), .unsupportedGrantType, .invalidRequest("x"),
            .temporarilyUnavailable(retryAfterSeconds: 5), .slowDown(retryAfterSeconds: 60),
        ]
    }
}
