import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST <tokenPath>` with `grant_type=client_credentials`, the client id and secret in HTTP Basic
/// auth or in the form body (RFC 6749 §4.4): answers a bearer token valid for the configured TTL.
struct OAuthTokenEndpoint {
    let store: OAuthTokenStore

    func issue(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: 16 * 1024))
        var form: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if parts.count == 2 { form[parts[0]] = parts[1] }
        }
        guard form["grant_type"] == "client_credentials" else {
            throw APIError(.badRequest, code: "unsupported_grant_type", "grant_type must be client_credentials")
        }
        var clientID = form["client_id"]
        var clientSecret = form["client_secret"]
        if let header = request.headers[.authorization], header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) })
        {
            let parts = decoded.split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 2 { (clientID, clientSecret) = (parts[0], parts[1]) }
        }
        guard let clientID, let clientSecret, store.credentialsAreValid(clientID: clientID, clientSecret: clientSecret) else {
            context.logger.notice("OAuth token refused: invalid client credentials")
            throw APIError(.unauthorized, code: "invalid_client", "invalid client credentials")
        }
        let token: String
        do { token = try await store.issue() } catch {
            throw APIError.unavailable("cannot issue a token now, retry later", retryAfterSeconds: 5)
        }
        return jsonResponse(
            .ok, #"{"access_token":"\#(token)","token_type":"Bearer","expires_in":\#(store.tokenTTLSeconds)}"#)
    }
}
