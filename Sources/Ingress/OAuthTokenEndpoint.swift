import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST <tokenPath>` with `grant_type=client_credentials`, the client id and secret in HTTP Basic
/// auth or in the form body (RFC 6749 §4.4): answers a bearer token valid for the configured TTL.
/// Each client address gets at most ``attemptsPerMinute`` requests a minute, counted in Redis
/// before the credentials are looked at (Booxi asks for one token an hour), and a presented id or
/// secret longer than ``maxCredentialLength`` is refused unhashed.
struct OAuthTokenEndpoint: Sendable {
    let store: OAuthTokenStore
    let clientAddress: ClientAddressResolver

    static let attemptsPerMinute = 10
    static let maxCredentialLength = 256

    func issue(_ request: Request, context: AppRequestContext) async -> Response {
        do {
            let client = ClientBucket(address: clientAddress.clientAddress(peer: context.remoteAddress, headers: request.headers))
            let attempts: Int
            do { attempts = try await store.countAttempt(from: client) } catch {
                context.logger.error("OAuth token not issued: Redis unavailable", metadata: ["cause": "\(error)"])
                throw OAuthError.temporarilyUnavailable(retryAfterSeconds: 5)
            }
            guard attempts <= Self.attemptsPerMinute else { throw OAuthError.slowDown(retryAfterSeconds: 60) }
            return try await issueToken(request, context: context)
        } catch let error as OAuthError {
            if case .invalidClient = error { context.logger.notice("OAuth token refused: invalid client credentials") }
            return error.response()
        } catch {
            return OAuthError.invalidRequest("the request body could not be read").response()
        }
    }

    private func issueToken(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let body: String
        do { body = String(buffer: try await request.collectBody(upTo: 16 * 1024)) } catch {
            throw OAuthError.invalidRequest("the request body is larger than 16 KiB")
        }
        var form: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if parts.count == 2 { form[parts[0]] = parts[1] }
        }
        guard let grantType = form["grant_type"] else { throw OAuthError.invalidRequest("grant_type is required") }
        guard grantType == "client_credentials" else { throw OAuthError.unsupportedGrantType }
        var clientID = form["client_id"]
        var clientSecret = form["client_secret"]
        let basic = request.headers[.authorization]?.lowercased().hasPrefix("basic ") == true
        if let header = request.headers[.authorization], basic,
            let decoded = Data(base64Encoded: String(header.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) })
        {
            let parts = decoded.split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 2 { (clientID, clientSecret) = (parts[0], parts[1]) }
        }
        guard let clientID, let clientSecret, clientID.utf8.count <= Self.maxCredentialLength,
            clientSecret.utf8.count <= Self.maxCredentialLength,
            store.credentialsAreValid(clientID: clientID, clientSecret: clientSecret)
        else {
            throw OAuthError.invalidClient(basic: basic)
        }
        let token: String
        do { token = try await store.issue() } catch {
            context.logger.error("OAuth token not issued: Redis unavailable", metadata: ["cause": "\(error)"])
            throw OAuthError.temporarilyUnavailable(retryAfterSeconds: 5)
        }
        return jsonResponse(
            .ok, #"{"access_token":"\#(token)","token_type":"Bearer","expires_in":\#(store.tokenTTLSeconds)}"#)
    }
}
