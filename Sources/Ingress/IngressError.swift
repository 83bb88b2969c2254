import HTTPSupport
import HTTPTypes

/// Why the ingress did not queue a delivery, and what each is over HTTP: the one mapping.
/// Nothing is acknowledged in any of these cases, so Booxi delivers again (or an operator looks).
enum IngressError: HTTPMappedError, Equatable {
    case sourceNotAllowed
    case missingToken
    case badToken
    case missingBearer
    case badBearer
    case signature(SignatureVerifier.Failure)
    case bodyTooLarge(limit: Int)
    case unsupportedMediaType
    case invalidBody(WebhookPayload.Rejection)
    /// The push did not reach Redis (or the OAuth token lookup could not): retry later.
    case redisUnavailable(retryAfterSeconds: Int, cause: String)
    /// The push reached the primary, but fewer replicas than `ingress.replicaAcks` confirmed it in
    /// time: not acknowledged, so a failover cannot lose an acknowledged webhook. Booxi delivers
    /// again; the event id's dedupe and the idempotent apply make a second copy harmless.
    case notReplicated(acknowledged: Int, wanted: Int, retryAfterSeconds: Int)

    var apiError: APIError {
        switch self {
        case .sourceNotAllowed: APIError(.forbidden, code: code, "source address not allowed")
        case .missingToken: APIError(.unauthorized, code: code, "missing webhook token")
        case .badToken: APIError(.unauthorized, code: code, "invalid webhook token")
        case .missingBearer: APIError(.unauthorized, code: code, "missing bearer token")
        case .badBearer: APIError(.unauthorized, code: code, "invalid or expired bearer token")
        case .signature(.missingSignature): APIError(.unauthorized, code: code, "missing signature")
        case .signature(.missingTimestamp): APIError(.unauthorized, code: code, "missing or malformed signature timestamp")
        case .signature(.staleTimestamp): APIError(.unauthorized, code: code, "signature timestamp outside the tolerance")
        case .signature(.badSignature): APIError(.unauthorized, code: code, "invalid signature")
        case .bodyTooLarge(let limit): APIError(.contentTooLarge, code: code, "body larger than \(limit) bytes")
        case .unsupportedMediaType: APIError(.unsupportedMediaType, code: code, "Content-Type must be application/json")
        case .invalidBody(.notJSON): APIError(.badRequest, code: code, "body is not valid JSON")
        case .invalidBody(.notAnObject): APIError(.badRequest, code: code, "body must be a JSON object")
        case .invalidBody(.missingEvent): APIError(.badRequest, code: code, "body must have a string field \"event\"")
        case .redisUnavailable(let seconds, let cause):
            .unavailable("event not stored, retry later", retryAfterSeconds: seconds, cause: "webhook not queued: Redis unavailable: \(cause)")
        case .notReplicated(let acknowledged, let wanted, let seconds):
            .unavailable(
                "event not stored on enough replicas, retry later", retryAfterSeconds: seconds,
                cause: "webhook pushed but not acknowledged: WAIT answered \(acknowledged) of \(wanted) replicas")
        }
    }

    /// The answer's `code`.
    var code: String {
        switch self {
        case .sourceNotAllowed: "source_not_allowed"
        case .missingToken: "missing_token"
        case .badToken: "bad_token"
        case .missingBearer: "missing_bearer"
        case .badBearer: "bad_bearer"
        case .signature(.missingSignature): "missing_signature"
        case .signature(.missingTimestamp): "missing_timestamp"
        case .signature(.staleTimestamp): "stale_timestamp"
        case .signature(.badSignature): "bad_signature"
        case .bodyTooLarge: "body_too_large"
        case .unsupportedMediaType: "unsupported_media_type"
        case .invalidBody: "invalid_body"
        case .redisUnavailable, .notReplicated: "unavailable"
        }
    }

    /// The `reason` label of `booxi_tracking_ingress_webhooks_rejected_total` and of the log line.
    var metricReason: String {
        switch self {
        case .redisUnavailable: "redis_unavailable"
        case .notReplicated: "not_replicated"
        default: code
        }
    }

    static var everyCase: [IngressError] {
        [
            .sourceNotAllowed, .missingToken, .badToken, .missingBearer, .badBearer, .signature(.missingSignature),
            .signature(.missingTimestamp), .signature(.staleTimestamp), .signature(.badSignature), .bodyTooLarge(limit: 1),
            .unsupportedMediaType, .invalidBody(.notJSON), .invalidBody(.notAnObject), .invalidBody(.missingEvent),
            .redisUnavailable(retryAfterSeconds: 1, cause: "down"), .notReplicated(acknowledged: 0, wanted: 1, retryAfterSeconds: 1),
        ]
    }
}
