import BooxiAPI
import BooxiModels
import Foundation
import HTTPSupport
import Hummingbird
import RedisClient

/// Services and availability for the page's own modify flow, cached briefly in Redis (shared by
/// replicas) so that browsing slots does not spend Booxi's call budget. Fetched in the visitor
/// class, waiting at most `fetchWait` for a turn.
struct Catalog: Sendable {
    let redis: RedisClient
    let booxi: BooxiClient
    let keyPrefix: String
    let fetchWait: Duration
    let servicesTTLSeconds = 300
    let availabilityTTLSeconds = 60
    let flights = SingleFlight<[UInt8]>()

    func services() async throws -> [BooxiService] {
        let bytes = try await cached(keyPrefix + "{c}:services", ttl: servicesTTLSeconds) {
            let services = try await booxi.services(.queue(.visitor, wait: fetchWait))
            return Array(try JSONEncoder().encode(services.filter { ($0.bookingMethod ?? "Appointment") == "Appointment" }))
        }
        return (try? JSONDecoder().decode([BooxiService].self, from: Data(bytes))) ?? []
    }

    /// Booxi's slots as they are, staff ids included: they stay on the server. The key holds
    /// only the normalised window, so equal days share one entry and one Booxi call.
    func availability(serviceID: Int, window: AvailabilityWindow) async throws -> [AvailabilitySlot] {
        let key = keyPrefix + "{c}:availability:\(serviceID):\(window.firstDay):\(window.days)"
        let bytes = try await cached(key, ttl: availabilityTTLSeconds) {
            Array(
                try JSONEncoder().encode(
                    try await booxi.availability(serviceID: serviceID, from: window.from, to: window.to, .queue(.visitor, wait: fetchWait))))
        }
        return (try? JSONDecoder().decode([AvailabilitySlot].self, from: Data(bytes))) ?? []
    }

    private func cached(_ key: String, ttl: Int, fetch: @escaping @Sendable () async throws -> [UInt8]) async throws -> [UInt8] {
        if let bytes = try? await redis.get(key) { return bytes }
        do {
            return try await flights.run(key: key) {
                let bytes = try await fetch()
                _ = try? await redis.send("SET", key, bytes, "EX", ttl)
                return bytes
            }
        } catch let error as BooxiError {
            throw ReadAPIError(error)
        }
    }
}

extension ReadAPIRoutes {
    /// `GET /api/tracking/:code/services`: only for a code that resolves, so this is no open proxy.
    func services(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try throttle(lookups, request, context)
        _ = try await view(try code(context), context)
        let services = try await catalog.services().map { ["id": $0.id, "name": $0.name ?? "", "duration": $0.duration ?? 0] as [String: Any] }
        return jsonResponse(.ok, bytes: Array(try JSONSerialization.data(withJSONObject: ["services": services], options: [.sortedKeys])))
    }

    /// One slot as the page sees it: times and an opaque token, no staff id.
    struct PublicSlot: Encodable {
        var start: String
        var end: String?
        var duration: Int?
        var token: String
    }

    /// `GET /api/tracking/:code/availability?serviceId=&from=&to=`: whole UTC days, at most 14, from
    /// yesterday to `api.availabilityHorizonDays` ahead (``AvailabilityWindow``).
    func availability(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try throttle(lookups, request, context)
        let record = try await lookup(try code(context), context).record
        let query = request.uri.queryParameters
        // Booxi's ids are positive; ten digits keep any value far from Int's bounds.
        guard let text = query["serviceId"], text.utf8.count <= 10, let serviceID = Int(String(text)), serviceID > 0 else {
            throw ReadAPIError.missingService
        }
        let window: AvailabilityWindow
        do {
            window = try AvailabilityWindow(
                from: query["from"].map(String.init), to: query["to"].map(String.init), horizonDays: settings.availabilityHorizonDays)
        } catch {
            throw ReadAPIError(error, horizonDays: settings.availabilityHorizonDays)
        }
        guard try await catalog.services().contains(where: { $0.id == serviceID }) else {
            throw ReadAPIError.unknownService
        }
        let slots = try await catalog.availability(serviceID: serviceID, window: window).map {
            PublicSlot(
                start: $0.start, end: $0.end, duration: $0.duration,
                token: try slotTokens.issue(bookingID: record.bookingID, slot: $0, serviceID: serviceID))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return jsonResponse(.ok, bytes: Array(try encoder.encode(["slots": slots])))
    }
}
