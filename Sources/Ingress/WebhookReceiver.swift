import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import NIOCore
import JobQueue
import Logging
import Metrics
import RedisClient
import TrackingConfig
import TrackingCore

/// Handles one webhook delivery: size limit, authentication, cheap validation, then the push,
/// answering 200 only once Redis acknowledged it.
struct WebhookReceiver: Sendable {
    let settings: IngressSettings
    let queue: JobQueue
    let authenticator: WebhookAuthenticator
    /// Its auto-pipelining group-commits concurrent pushes into shared round trips.
    let redis: RedisClient
    let metrics: IngressMetrics
    /// The header carrying the event id for de-duplication (`ingress.dedupe.idHeader`), parsed once.
    let dedupeIDHeader: HTTPField.Name?
    /// Validates a body and finds its `event` and `ingress.dedupe.idField`.
    let payloadScanner: JSONObjectScanner
    /// With `ingress.replicaAcks` > 0: the replicas every push waits for.
    let replicaWait: ReplicaWait?

    init(settings: IngressSettings, queue: JobQueue, authenticator: WebhookAuthenticator, redis: RedisClient, metrics: IngressMetrics) {
        self.settings = settings
        self.queue = queue
        self.authenticator = authenticator
        self.redis = redis
        self.metrics = metrics
        self.dedupeIDHeader = HTTPField.Name(settings.dedupeIDHeader)
        self.payloadScanner = WebhookPayload.scanner(idField: settings.dedupeIDField)
        self.replicaWait = ReplicaWait(replicas: settings.replicaAcks, timeout: settings.replicaAckTimeout)
    }

    /// Request headers kept in the envelope (never credentials).
    static let keptHeaders: [HTTPField.Name] = ["webhook-id", "webhook-timestamp", "user-agent", "x-request-id"].map { HTTPField.Name($0)! }

    func receive(_ request: Request, context: AppRequestContext, pathToken: String?) async throws -> Response {
        do {
            try await authenticator.authenticateBeforeBody(request: request, context: context, pathToken: pathToken)
        } catch let refusal as IngressError {
            throw refuse(refusal, context)
        } catch {
            throw unavailable(error, context)  // the OAuth token lookup needs Redis
        }
        var request = request
        let body: [UInt8]
        do {
            body = Array(buffer: try await request.collectBody(upTo: settings.bodyLimitBytes))
        } catch {
            throw refuse(.bodyTooLarge(limit: settings.bodyLimitBytes), context)
        }
        do {
            try authenticator.verifySignature(request: request, body: body)
        } catch {
            throw refuse(error, context)
        }
        guard Self.isJSON(request.headers[.contentType]) else {
            throw refuse(.unsupportedMediaType, context)
        }
        let payload: WebhookPayload
        do {
            payload = try WebhookPayload(body: body, scanner: payloadScanner)
        } catch {
            throw refuse(.invalidBody(error), context)
        }

        var headers: [String: String] = [:]
        for name in Self.keptHeaders {
            if let value = request.headers[name] { headers[name.canonicalName] = value }
        }
        // On the path Booxi waits on: only the de-duplication and the push. The worker notes the
        // delivery in the booking's timeline when it applies it (with this receive time).
        let eventID = dedupeIDHeader.flatMap { request.headers[$0] } ?? payload.eventID
        let envelope = JobEnvelope(kind: .webhook, payload: payload.text, headers: headers.isEmpty ? nil : headers, eventId: eventID)
        var push = RedisPipeline()
        if let eventID {
            queue.appendPush(
                envelope, forBooking: payload.bookingID, oncePer: eventID, windowSeconds: settings.dedupeWindowSeconds, to: &push)
        } else {
            queue.appendPush(envelope, forBooking: payload.bookingID, to: &push)
        }
        let waitReply = push.count
        if let replicaWait { queue.appendReplicaWait(replicaWait, to: &push) }

        let started = ContinuousClock.now
        let outcome: PushOutcome
        do {
            let replies = try await redis.execute(push)
            outcome = try PushOutcome(reply: replies[0])
            if let replicaWait {
                let (acknowledged, enough) = try replicaWait.replicated(replies[waitReply])
                if !enough {
                    let refusal = IngressError.notReplicated(
                        acknowledged: acknowledged, wanted: replicaWait.replicas, retryAfterSeconds: settings.retryAfterSeconds)
                    metrics.rejected(refusal.metricReason)
                    throw refusal
                }
            }
        } catch let refusal as IngressError {
            throw refusal
        } catch {
            throw unavailable(error, context)
        }
        metrics.pushDuration.record(duration: ContinuousClock.now - started)
        // Inline metadata is only built when debug logging is on (hot path).
        switch outcome {
        case .duplicate:
            metrics.duplicates.increment()
            context.logger.debug("duplicate webhook delivery, not queued again", metadata: ["jobId": "\(envelope.id)", "event": "\(payload.event)"])
            return jsonResponse(.ok, #"{"status":"duplicate"}"#)
        case .queued, .busy:
            metrics.accepted.increment()
            context.logger.debug("webhook queued", metadata: ["jobId": "\(envelope.id)", "event": "\(payload.event)"])
            return jsonResponse(.ok, #"{"status":"queued","id":"\#(envelope.id)"}"#)
        }
    }

    private func refuse(_ error: IngressError, _ context: AppRequestContext) -> IngressError {
        metrics.rejected(error.metricReason)
        context.logger.notice("webhook refused", metadata: ["reason": "\(error.metricReason)"])
        return error
    }

    private func unavailable(_ error: any Error, _ context: AppRequestContext) -> IngressError {
        let refusal = IngressError.redisUnavailable(retryAfterSeconds: settings.retryAfterSeconds, cause: "\(error)")
        metrics.rejected(refusal.metricReason)
        return refusal
    }

    /// `application/json`, or any `application/...+json`, parameters ignored, case-insensitive.
    /// Plain ASCII work: this runs on every delivery.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }
            .drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            .reversed().drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }.reversed()
            .map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 | 0x20 : $0 }
        return mediaType.elementsEqual("application/json".utf8)
            || (mediaType.starts(with: "application/".utf8) && mediaType.reversed().starts(with: "nosj+".utf8))
    }
}
