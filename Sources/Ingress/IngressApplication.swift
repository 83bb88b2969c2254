import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import NIOCore
import JobQueue
import Logging
import RedisClient
import TrackingConfig
import TrackingCore

/// Builds the ingress' public listener: `POST`/`PUT` on the webhook path (with `/:token` when the
/// token travels in the path), the OAuth token endpoint when enabled, and `/healthz`. `/readyz`
/// and `/metrics` are on its operations listener (``buildOperationsApplication``).
public func buildIngressApplication(
    configuration: AppConfiguration,
    redis: RedisClient,
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let settings = configuration.ingress
    let secrets = configuration.secrets
    if settings.signature.enabled && secrets.webhookSigningSecrets.isEmpty {
        throw ConfigurationError(
            key: "secrets.webhookSigningSecrets", reason: "required when ingress.signature.enabled is true (set BXT_WEBHOOK_SIGNING_SECRETS)")
    }
    if settings.tokenInPath && secrets.webhookTokens.isEmpty {
        throw ConfigurationError(key: "secrets.webhookTokens", reason: "required when ingress.auth.tokenInPath is true (set BXT_WEBHOOK_TOKENS)")
    }
    let oauth: OAuthTokenStore? =
        settings.oauth.enabled
        ? OAuthTokenStore(
            redis: redis, keyPrefix: configuration.keyPrefix, clientID: settings.oauth.clientID,
            clientSecret: SecretMatcher([secrets.oauthClientSecret?.revealed ?? ""]), tokenTTLSeconds: settings.oauth.tokenTTLSeconds)
        : nil
    let allowList = try settings.allowedSources.map { text in
        guard let cidr = CIDR(text) else { throw ConfigurationError(key: "ingress.allowedSources", reason: "'\(text)' is not an address or CIDR") }
        return cidr
    }
    // One resolver for the allow list, the token endpoint's throttle and the edge guard.
    let clientAddress = ClientAddressResolver(trustedProxies: settings.trustedProxies)
    let authenticator = WebhookAuthenticator(
        allowList: allowList,
        clientAddress: clientAddress,
        tokens: SecretMatcher(secrets.webhookTokens.map(\.revealed)),
        tokenHeader: HTTPField.Name(settings.tokenHeader) ?? .authorization,
        tokenInPath: settings.tokenInPath,
        oauth: oauth,
        signature: settings.signature.enabled
            ? SignatureVerifier(settings: settings.signature, secrets: secrets.webhookSigningSecrets.map(\.revealed)) : nil)
    if !authenticator.isConfigured {
        guard settings.allowUnauthenticated else { throw unauthenticatedIngress }
        logger.warning(
            "ingress.allowUnauthenticated is true and no webhook authentication is configured: anyone who reaches this port can queue webhooks; for local development only"
        )
    }
    let receiver = WebhookReceiver(
        settings: settings, queue: JobQueue(redis: redis, shards: configuration.queueShards), authenticator: authenticator,
        redis: redis, metrics: IngressMetrics())

    let router = Router.forRole()
    router.add(middleware: JSONErrorMiddleware())
    addHealthRoute(to: router)
    let webhookPath = RouterPath(settings.tokenInPath ? settings.path + "/:token" : settings.path)
    for method in [HTTPRequest.Method.post, .put] {
        router.on(webhookPath, method: method) { request, context in
            try await receiver.receive(request, context: context, pathToken: context.parameters.get("token"))
        }
    }
    if let oauth {
        let endpoint = OAuthTokenEndpoint(store: oauth, clientAddress: clientAddress)
        router.post(RouterPath(settings.oauth.tokenPath)) { request, context in
            await endpoint.issue(request, context: context)
        }
    }
    let edge = EdgeGuard(
        limits: settings.edge, listener: "ingress", clientAddress: clientAddress, logger: logger)
    return Application(
        router: router,
        server: .publicHTTP1(edge),
        configuration: .publicListener(host: settings.host, port: settings.port),
        onServerRunning: onServerRunning,
        logger: logger)
}

/// Why an ingress with no webhook authentication does not start, and what fixes it.
let unauthenticatedIngress = ConfigurationError(
    key: "secrets.webhookTokens",
    reason: "no webhook authentication is configured, so anyone could queue webhooks; set a token of at least 16 bytes "
        + "(BXT_WEBHOOK_TOKENS), or a signature (ingress.signature.enabled with BXT_WEBHOOK_SIGNING_SECRETS), OAuth "
        + "(ingress.oauth.enabled with BXT_OAUTH_CLIENT_SECRET) or ingress.allowedSources; for local development only, "
        + "ingress.allowUnauthenticated=true (BXT_INGRESS_ALLOW_UNAUTHENTICATED) accepts unauthenticated webhooks")
