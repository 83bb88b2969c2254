import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import NIOCore
import TrackingConfig

/// Every configured form of webhook authentication (docs/architecture.md §5), each optional, all combined: a
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

    /// Whether any form is configured. Without one the ingress refuses to start, unless
    /// `ingress.allowUnauthenticated` says this is a local development set-up.
    var isConfigured: Bool {
        !allowList.isEmpty || !tokens.isEmpty || oauth != nil || signature != nil
    }

    /// The forms that need no body (allow list, token, bearer token), checked before the body is
    /// read, so an unauthenticated sender cannot make the ingress read or hold up to the body limit.
    /// Throws ``IngressError`` for a refusal, and whatever the OAuth token lookup in Redis throws.
    func authenticateBeforeBody(request: Request, context: AppRequestContext, pathToken: String?) async throws {
        if !allowList.isEmpty {
            let client = clientAddress.clientAddress(peer: context.remoteAddress, headers: request.headers)
            guard let client, allowList.contains(where: { $0.contains(client) }) else {
                throw IngressError.sourceNotAllowed
            }
        }
        if !tokens.isEmpty {
            let presented = tokenInPath ? pathToken : request.headers[tokenHeader]
            guard let presented, !presented.isEmpty else {
                throw IngressError.missingToken
            }
            guard tokens.matches(presented) else { throw IngressError.badToken }
        }
        if let oauth {
            guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
                throw IngressError.missingBearer
            }
            guard try await oauth.isValid(header.dropFirst(7).trimmingCharacters(in: .whitespaces)) else {
                throw IngressError.badBearer
            }
        }
    }

    /// The signature, which covers the body: checked once it is read (within the body limit).
    func verifySignature(request: Request, body: [UInt8]) throws(IngressError) {
        guard let signature else { return }
        do {
            try signature.verify(body: body) { name in
                HTTPField.Name(name).flatMap { request.headers[$0] }
            }
        } catch {
            throw IngressError.signature(error)
        }
    }
}
