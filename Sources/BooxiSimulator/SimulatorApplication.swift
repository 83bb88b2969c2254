import AsyncHTTPClient
import BooxiAPI
import BooxiModels
import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The Booxi look-alike: the Booking API's paths under `/booking/v1` (API key in `Booxi-PartnerKey`
/// or `x-api-key`), Booxi's error shapes, and control routes under `/simulator` for tests and demos.
public struct BooxiSimulator: Sendable {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        /// The key callers must present; nil accepts any non-empty key.
        public var apiKey: String?
        public var webhookURL: String
        public var webhookToken: String?
        public var faults: FaultPlan
        public var seed: SimulatorSeed
        /// Booxi's fair use, enforced per API key (nil: not enforced).
        public var fairUse: FairUsePolicy?

        public init(
            host: String, port: Int, apiKey: String?, webhookURL: String, webhookToken: String?, seed: SimulatorSeed,
            faults: FaultPlan = FaultPlan(), fairUse: FairUsePolicy? = .booxi
        ) {
            self.fairUse = fairUse
            self.host = host
            self.port = port
            self.apiKey = apiKey
            self.webhookURL = webhookURL
            self.webhookToken = webhookToken
            self.seed = seed
            self.faults = faults
        }
    }

    let state: SimulatorState
    let faults: FaultInjector
    let fairUse: FairUseEnforcer
    let sender: WebhookSender
    let settings: Settings

    public init(settings: Settings, http: HTTPClient, logger: Logger) {
        self.settings = settings
        state = SimulatorState(seed: settings.seed)
        faults = FaultInjector(plan: settings.faults)
        fairUse = FairUseEnforcer(policy: settings.fairUse)
        sender = WebhookSender(url: settings.webhookURL, token: settings.webhookToken, http: http, faults: faults, logger: logger)
    }

    public func buildApplication(logger: Logger, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        let router = Router.forRole()
        addOperationalRoutes(to: router) { true }
        addBookingAPI(to: router.group("booking/v1"))
        addControlRoutes(to: router.group("simulator"))
        return Application(
            router: router, configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: nil),
            services: [sender], onServerRunning: onServerRunning, logger: logger)
    }

    private func addBookingAPI(to api: RouterGroup<AppRequestContext>) {
        api.get("booking/:id") { request, context in
            try await guarded(request, route: "GET /booking/{id}") {
                guard let booking = await state.booking(try context.parameters.require("id")) else { throw SimulatorRefusal.notFound }
                return try Self.json(booking)
            }
        }
        api.put("booking/:id") { request, context in
            var request = request
            let body = try await request.collectBody(upTo: 64 * 1024)
            return try await guarded(request, route: "PUT /booking/{id}") {
                let id = try context.parameters.require("id")
                guard let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
                    throw SimulatorRefusal.invalid("body must be a JSON object")
                }
                if json["status"] as? String == "Cancelled" {
                    let booking = try await state.cancel(id)
                    sender.send("booking.cancelled", booking)
                    return try Self.json(booking)
                }
                guard let startsOn = (json["startsOn"] as? String).flatMap(ISO8601.parse),
                    let items = json["items"] as? [[String: Any]], let serviceID = items.first?["serviceId"] as? Int
                else { throw SimulatorRefusal.invalid("startsOn and items[0].serviceId are required") }
                let booking = try await state.modify(id, startsOn: startsOn, serviceID: serviceID, staffID: json["staffId"] as? Int)
                sender.send("booking.modified", booking)
                return try Self.json(booking)
            }
        }
        api.get("merchant/:id") { request, context in
            try await guarded(request, route: "GET /merchant/{id}") {
                guard let id = Int(try context.parameters.require("id")), let merchant = await state.merchant(id) else {
                    throw SimulatorRefusal.notFound
                }
                return try Self.json(merchant)
            }
        }
        api.get("service") { request, _ in
            try await guarded(request, route: "GET /service") {
                let items = state.services
                return try Self.json(ServiceListBody(offset: 0, limit: items.count, total: items.count, items: items))
            }
        }
        api.get("service/:id/availability") { request, context in
            try await guarded(request, route: "GET /service/{id}/availability") {
                guard let serviceID = Int(try context.parameters.require("id")) else { throw SimulatorRefusal.notFound }
                guard let from = request.uri.queryParameters["from"].flatMap({ ISO8601.parse(String($0)) }),
                    let to = request.uri.queryParameters["to"].flatMap({ ISO8601.parse(String($0)) }), from < to
                else { throw SimulatorRefusal.invalid("from and to (RFC 3339) are required") }
                let slots = try await state.availability(serviceID: serviceID, from: from, to: to)
                return try Self.json(AvailabilityBody(serviceAvailability: slots, cursor: nil))
            }
        }
    }

    /// API key check, fair use, fault injection, then the route; refusals in Booxi's JSON shape.
    private func guarded(_ request: Request, route: String, _ body: () async throws -> Response) async throws -> Response {
        let presented = request.headers[HTTPField.Name("Booxi-PartnerKey")!] ?? request.headers[HTTPField.Name("x-api-key")!]
        guard let presented, !presented.isEmpty, settings.apiKey == nil || presented == settings.apiKey else {
            return Self.booxiError(.unauthorized, code: "Unauthorized", message: "Invalid or missing API key")
        }
        if let retryAfter = await fairUse.admit(key: presented) {
            var response = Self.booxiError(.tooManyRequests, code: "TooManyRequests", message: "API fair use exceeded")
            response.headers[.retryAfter] = String(max(1, retryAfter))
            return response
        }
        let response = try await faultsThenRoute(route, body)
        if response.status == .badRequest { await fairUse.answeredBadRequest(key: presented) }
        return response
    }

    private func faultsThenRoute(_ route: String, _ body: () async throws -> Response) async throws -> Response {
        switch await faults.decide(route: route) {
        case .pass: break
        case .hang(let milliseconds): try await Task.sleep(for: .milliseconds(milliseconds))
        case .drop:
            // Headers go out, then the body fails: the server closes the connection mid-response.
            return Response(status: .ok, body: ResponseBody(contentLength: 100) { _ in throw SimulatorRefusal.dropped })
        case .fail(let status):
            var response = Self.booxiError(HTTPResponse.Status(code: status), code: "Injected", message: "injected fault")
            if status == 429 { response.headers[.retryAfter] = String(await faults.plan.retryAfterSeconds) }
            return response
        }
        let latency = await faults.plan.latencyMs
        if latency > 0 { try await Task.sleep(for: .milliseconds(latency)) }
        do {
            return try await body()
        } catch let refusal as SimulatorRefusal {
            switch refusal {
            case .notFound: return Self.booxiError(.notFound, code: "NotFound", message: "Not found")
            case .invalid(let message): return Self.booxiError(.badRequest, code: "InvalidRequest", message: message)
            case .conflict(let error, let message): return Self.booxiError(.conflict, code: "Conflict", message: message, error: error)
            case .dropped: throw refusal
            }
        }
    }

    static func booxiError(_ status: HTTPResponse.Status, code: String, message: String, error: String? = nil) -> Response {
        var body = ["message": message, "code": code]
        if let error { body["error"] = error }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return jsonResponse(status, bytes: Array(data))
    }

    static func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return jsonResponse(.ok, bytes: Array(try encoder.encode(value)))
    }
}

struct ServiceListBody: Encodable {
    var offset: Int
    var limit: Int
    var total: Int
    var items: [BooxiService]
}

struct AvailabilityBody: Encodable {
    var serviceAvailability: [AvailabilitySlot]
    var cursor: String?
}
