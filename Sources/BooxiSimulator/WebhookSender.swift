import AsyncHTTPClient
import BooxiModels
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// Delivers the simulator's webhooks to the ingress like Booxi would: JSON with a unique event id,
/// retried with backoff on anything but 2xx, possibly duplicated or delayed (fault injection).
final class WebhookSender: Service, Sendable {
    struct Delivery: Sendable {
        let body: [UInt8]
        let eventID: String
    }

    private let url: String
    private let token: String?
    private let http: HTTPClient
    private let faults: FaultInjector
    private let logger: Logger
    private let stream: AsyncStream<Delivery>
    private let continuation: AsyncStream<Delivery>.Continuation

    init(url: String, token: String?, http: HTTPClient, faults: FaultInjector, logger: Logger) {
        self.url = url
        self.token = token
        self.http = http
        self.faults = faults
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: Delivery.self)
    }

    /// Booxi's event times carry milliseconds: two changes within a second stay in order.
    static let milliseconds = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// Queues the webhook for `event` about `booking`.
    func send(_ event: String, _ booking: Booking) {
        let eventID = "evt_" + UUID().uuidString.lowercased()
        let payload: [String: Any] = [
            "event": event, "id": eventID, "timestamp": Date().formatted(Self.milliseconds),
            "booking": [
                "confirmationNumber": booking.bookingId, "status": booking.status ?? "Approved",
                "client": [
                    "firstName": booking.client?.firstName ?? "", "lastName": booking.client?.lastName ?? "",
                    "email": booking.client?.email ?? "",
                    "trackingPage": ["viewURL": booking.client?.trackingPage?.viewURL ?? ""],
                ],
            ],
        ]
        let body = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        continuation.yield(Delivery(body: Array(body), eventID: eventID))
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for await delivery in stream {
                    let plan = await faults.plan
                    for copy in 0..<(plan.duplicateWebhooks ? 2 : 1) {
                        group.addTask {
                            if plan.reorderWebhooksMs > 0 {
                                try? await Task.sleep(for: .milliseconds(Int.random(in: 0...plan.reorderWebhooksMs)))
                            }
                            await self.deliver(delivery, copy: copy)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }

    private func deliver(_ delivery: Delivery, copy: Int) async {
        for attempt in 0..<6 {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "webhook-id", value: delivery.eventID)
            if let token { request.headers.add(name: "x-webhook-token", value: token) }
            request.body = .bytes(ByteBuffer(bytes: delivery.body))
            if let response = try? await http.execute(request, timeout: .seconds(5)) {
                _ = try? await response.body.collect(upTo: 1 << 16)
                if (200..<300).contains(response.status.code) { return }
                logger.notice("webhook delivery refused", metadata: ["status": "\(response.status.code)", "attempt": "\(attempt)"])
            }
            try? await Task.sleep(for: .milliseconds(200 << attempt))
        }
        logger.error("webhook delivery gave up", metadata: ["eventId": "\(delivery.eventID)"])
    }
}
