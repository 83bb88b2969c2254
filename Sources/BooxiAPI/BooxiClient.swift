import AsyncHTTPClient
import BooxiModels
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RedisClient

/// Booxi's Booking API (or the simulator): every call admitted by the shared ``BooxiScheduler``
/// in its class, typed errors, the API key only ever in the request header. One `HTTPClient` per
/// process is passed in and shut down by its owner.
public struct BooxiClient: Sendable {
    public struct Configuration: Sendable {
        public var baseURL: String
        /// The Partner API key: redacted in every description and reflection of the client.
        public var apiKey: Secret
        public var apiKeyHeader: String
        public var requestTimeout: Duration
        public var modifiedBy: String
        /// The longest a command or background call waits for its turn in the budget.
        public var maxQueueWait: Duration

        public init(
            baseURL: String, apiKey: Secret, apiKeyHeader: String = "Booxi-PartnerKey",
            requestTimeout: Duration = .seconds(10), modifiedBy: String = "booxi-tracking",
            maxQueueWait: Duration = .seconds(120)
        ) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.apiKey = apiKey
            self.apiKeyHeader = apiKeyHeader
            self.requestTimeout = requestTimeout
            self.modifiedBy = modifiedBy
            self.maxQueueWait = maxQueueWait
        }
    }

    /// How a call gets its turn.
    public enum Admission: Sendable {
        /// Queue in this class, for at most `wait` (nil: ``Configuration/maxQueueWait``).
        case queue(BooxiCallClass, wait: Duration? = nil)
        /// The caller already holds a grant (it took one before choosing what to fetch).
        case granted(BooxiGrant)
    }

    let configuration: Configuration
    let http: HTTPClient
    public let scheduler: BooxiScheduler
    let logger: Logger

    public init(configuration: Configuration, http: HTTPClient, scheduler: BooxiScheduler, logger: Logger) {
        self.configuration = configuration
        self.http = http
        self.scheduler = scheduler
        self.logger = logger
    }

    /// `GET /booking/{id}`: the booking and its raw JSON (kept as the cached copy).
    public func booking(id: String, _ admission: Admission) async throws -> (booking: Booking, raw: [UInt8]) {
        let raw = try await call(.GET, "/booking/\(Self.escape(id))", admission)
        do { return (try Booking.decode(raw), raw) } catch { throw BooxiError.invalid("unreadable booking JSON") }
    }

    /// `GET /merchant/{id}`: the store's details (address, time zone, phone), which change rarely.
    public func merchant(id: Int, _ admission: Admission) async throws -> Merchant {
        let raw = try await call(.GET, "/merchant/\(id)", admission)
        do { return try Merchant.decode(raw) } catch { throw BooxiError.invalid("unreadable merchant JSON") }
    }

    /// `PUT /booking/{id}` with `{"status":"Cancelled"}`: a visitor command, the highest class.
    public func cancel(id: String) async throws -> Booking? {
        let raw = try await call(
            .PUT, "/booking/\(Self.escape(id))", .queue(.command), body: ["status": "Cancelled", "modifiedBy": configuration.modifiedBy])
        return try? Booking.decode(raw)
    }

    /// `PUT /booking/{id}` with the new start, service and (optionally) staff.
    public func modify(id: String, startsOn: Date, serviceID: Int, staffID: Int?) async throws -> Booking? {
        var body: [String: Any] = [
            "startsOn": ISO8601.format(startsOn), "items": [["serviceId": serviceID]], "modifiedBy": configuration.modifiedBy,
        ]
        if let staffID { body["staffId"] = staffID }
        let raw = try await call(.PUT, "/booking/\(Self.escape(id))", .queue(.command), body: body)
        return try? Booking.decode(raw)
    }

    /// `GET /service?bookingMethod=Appointment`.
    public func services(_ admission: Admission) async throws -> [BooxiService] {
        let raw = try await call(.GET, "/service?bookingMethod=Appointment", admission)
        do { return try JSONDecoder().decode(ServiceList.self, from: Data(raw)).items } catch {
            throw BooxiError.invalid("unreadable service list")
        }
    }

    /// `GET /service/{id}/availability?from=&to=`.
    public func availability(serviceID: Int, from: Date, to: Date, _ admission: Admission) async throws -> [AvailabilitySlot] {
        let query = "from=\(Self.escape(ISO8601.format(from)))&to=\(Self.escape(ISO8601.format(to)))"
        let raw = try await call(.GET, "/service/\(serviceID)/availability?\(query)", admission)
        do { return try JSONDecoder().decode(AvailabilityList.self, from: Data(raw)).serviceAvailability } catch {
            throw BooxiError.invalid("unreadable availability")
        }
    }

    private func call(_ method: HTTPMethod, _ path: String, _ admission: Admission, body: [String: Any]? = nil) async throws -> [UInt8] {
        let grant: BooxiGrant
        switch admission {
        case .granted(let held): grant = held
        case .queue(let callClass, let wait):
            // Booxi validates a PUT's body and an availability query's range, and may answer 400.
            let mayBeRefused = method == .PUT || path.contains("/availability")
            grant = try await scheduler.acquire(callClass, wait: wait ?? configuration.maxQueueWait, mayBeRefused: mayBeRefused)
        }
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = method
        request.headers.add(name: configuration.apiKeyHeader, value: configuration.apiKey.revealed)
        request.headers.add(name: "accept", value: "application/json")
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let started = ContinuousClock.now
        let response: HTTPClientResponse
        let bytes: [UInt8]
        do {
            response = try await http.execute(request, timeout: .milliseconds(configuration.requestTimeout.milliseconds))
            bytes = Array(buffer: try await response.body.collect(upTo: 4 << 20))
        } catch {
            await scheduler.settle(grant, .noAnswer)
            // AsyncHTTPClient's errors name the host and the failure, never our headers.
            logger.warning("Booxi call failed", metadata: ["method": "\(method.rawValue)", "path": "\(Self.logPath(path))", "error": "\(error)"])
            throw BooxiError.transport(String(describing: error))
        }
        logger.debug(
            "Booxi call",
            metadata: [
                "method": "\(method.rawValue)", "path": "\(Self.logPath(path))", "status": "\(response.status.code)",
                "duration": "\(ContinuousClock.now - started)",
            ])
        let retryAfter = response.headers.first(name: "retry-after").flatMap(Int.init).map { Duration.seconds($0) }
        await scheduler.settle(grant, .answered(status: Int(response.status.code), retryAfter: retryAfter))
        switch response.status.code {
        case 200..<300:
            return bytes
        case 429:
            logger.warning("Booxi answered 429: every process pauses", metadata: ["retryAfter": "\(retryAfter ?? .seconds(1))"])
            throw BooxiError.rateLimited(retryAfter: retryAfter)
        default:
            throw Self.error(status: Int(response.status.code), body: bytes)
        }
    }

    static func error(status: Int, body: [UInt8]) -> BooxiError {
        let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        let message = String(((json?["message"] as? String) ?? "").prefix(200))
        let code = (json?["error"] as? String) ?? (json?["code"] as? String) ?? (json?["code"] as? Int).map(String.init) ?? ""
        switch status {
        case 401, 403: return .unauthorized
        case 404: return .notFound
        case 409: return .conflict(code: code.isEmpty ? "Conflict" : code, message: message)
        case 408: return .transport("request timeout (408)")
        case 400..<500: return .invalid(message.isEmpty ? "status \(status)" : message)
        default: return .server(status: status)
        }
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? text
    }

    /// Paths with the booking id replaced, for logs.
    static func logPath(_ path: String) -> String {
        path.hasPrefix("/booking/") ? "/booking/{id}" : String(path.prefix(while: { $0 != "?" }))
    }
}

extension BooxiClient {
    /// The longest one call may take.
    public var requestTimeout: Duration { configuration.requestTimeout }

    /// The longest a command or background call waits for its turn.
    public var maxQueueWait: Duration { configuration.maxQueueWait }
}

/// The envelopes of Booxi's list answers: only the client reads them, callers get the items.
private struct ServiceList: Codable {
    var offset: Int?
    var limit: Int?
    var total: Int?
    var items: [BooxiService]
}

private struct AvailabilityList: Codable {
    var serviceAvailability: [AvailabilitySlot]
    var cursor: String?
}
