import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import NIOCore
import TrackingConfig

/// Every configured form of webhook authentication (DESIGN §5), each optional, all combined: a
/// source-IP allow list, a secret token (path segment or header), an OAuth2 bearer token and an
/// HMAC signature. A form that is not configured is not checked.
struct WebhookAuthenticator: Sendable {
    let allowList: [CIDR]
    let clientAddress: ClientAddressResolver
    let tokens: SecretMatcher
    let tokenHeader: HTTPField.Name
    let tokenInPath: Bool
    let oauth: OAuthTokenStore?
    let signature: SignatureVerifier?

    /// Why a request was refused; `reason` is the metric label and log value (never a secret).
    struct Refusal: Error {
        let status: HTTPResponse.Status
        let reason: String
        let message: String

        static func unauthorized(_ reason: String, _ message: String) -> Refusal {
            Refusal(status: .unauthorized, reason: reason, message: message)
        }
    }

    func authenticate(request: Request, context: AppRequestContext, pathToken: String?, body: [UInt8]) async throws -> Void {
        if !allowList.isEmpty {
            let client = clientAddress.clientAddress(peer: context.remoteAddress, headers: request.headers)
            guard let client, allowList.contains(where: { $0.contains(client) }) else {
                throw Refusal(status: .forbidden, reason: "source_not_allowed", message: "source address not allowed")
            }
        }
        if !tokens.isEmpty {
            let presented = tokenInPath ? pathToken : request.headers[tokenHeader]
            guard let presented, !presented.isEmpty else {
                throw Refusal.unauthorized("missing_token", "missing webhook token")
            }
            guard tokens.matches(presented) else { throw Refusal.unauthorized("bad_token", "invalid webhook token") }
        }
        if let oauth {
            guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
                throw Refusal.unauthorized("missing_bearer", "missing bearer token")
            }
            guard try await oauth.isValid(header.dropFirst(7).trimmingCharacters(in: .whitespaces)) else {
                throw Refusal.unauthorized("bad_bearer", "invalid or expired bearer token")
            }
        }
        if let signature {
            do {
                try signature.verify(body: body) { name in
                    HTTPField.Name(name).flatMap { request.headers[$0] }
                }
            } catch {
                switch error {
                case .missingSignature: throw Refusal.unauthorized("missing_signature", "missing signature")
                case .missingTimestamp: throw Refusal.unauthorized("missing_timestamp", "missing or malformed signature timestamp")
                case .staleTimestamp: throw Refusal.unauthorized("stale_timestamp", "signature timestamp outside the tolerance")
                case .badSignature: throw Refusal.unauthorized("bad_signature", "invalid signature")
                }
            }
        }
    }
}
