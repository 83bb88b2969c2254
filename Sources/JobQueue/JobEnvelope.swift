import Foundation
import RedisClient
import Synchronization

/// What travels through the queues: one job with its bookkeeping. The payload is kept as the exact
/// text it arrived with (a webhook body byte for byte, or a command's JSON).
public struct JobEnvelope: Codable, Sendable, Equatable {
    public var id: String
    public var kind: JobKind
    /// Milliseconds since 1970 when the job entered the system.
    public var receivedAt: Int64
    /// How many times processing was attempted and failed (or was interrupted by a crash).
    public var attempt: Int
    public var payload: String
    /// Selected request headers of a webhook (e.g. `webhook-id`).
    public var headers: [String: String]?
    /// The id the ingress de-duplicated a webhook by, when it had one: the worker notes it in the
    /// booking's timeline, where the console counts the deliveries the ingress stopped.
    public var eventId: String?
    public var lastError: String?

    public init(
        id: String = JobEnvelope.newID(), kind: JobKind, receivedAt: Int64 = JobEnvelope.nowMilliseconds(),
        attempt: Int = 0, payload: String, headers: [String: String]? = nil, eventId: String? = nil, lastError: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.receivedAt = receivedAt
        self.attempt = attempt
        self.payload = payload
        self.headers = headers
        self.eventId = eventId
        self.lastError = lastError
    }

    /// A unique job id shaped like a lower-case UUID: 64 random bits drawn once per process, then
    /// a counter. Unique within the process by construction and across processes with the
    /// randomness of the prefix; costs no system call (Foundation's `UUID()` opens `/dev/urandom`
    /// on Linux, and this runs once per webhook).
    public static func newID() -> String {
        // RFC 4122 variant in the top two bits of the counter half.
        let count = idCounter.add(1, ordering: .relaxed).newValue & (UInt64.max >> 2) | (1 << 63)
        let hex = withUnsafeBytes(of: count.bigEndian) { $0.hexString }
        return "\(idPrefixText)\(hex.prefix(4))-\(hex.dropFirst(4))"
    }

    /// `xxxxxxxx-xxxx-4xxx-`: the random half, written once, with the version 4 nibble.
    private static let idPrefixText: String = {
        let random = UInt64.random(in: .min ... .max) & ~0xF000 | 0x4000
        let hex = withUnsafeBytes(of: random.bigEndian) { $0.hexString }
        return "\(hex.prefix(8))-\(hex.dropFirst(8).prefix(4))-\(hex.suffix(4))-"
    }()
    /// Starts at a random value too, so two processes that drew the same prefix still differ.
    private static let idCounter = Atomic<UInt64>(UInt64.random(in: 0...(UInt64.max >> 2)))

    public static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }

    /// The envelope as JSON, members sorted, as `JSONEncoder` would write it (once per webhook:
    /// written by hand, several times faster).
    public func encoded() -> [UInt8] {
        var json = JSONText(capacity: payload.utf8.count + 160)
        json.beginObject()
        json.member("attempt", attempt)
        json.member("eventId", eventId)
        json.member("headers", headers)
        json.member("id", id)
        json.member("kind", kind.rawValue)
        json.member("lastError", lastError)
        json.member("payload", payload)
        json.member("receivedAt", receivedAt)
        json.endObject()
        return json.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws -> JobEnvelope {
        try JSONDecoder().decode(JobEnvelope.self, from: Data(bytes))
    }
}

/// A job that failed for good, as stored in the dead-letter list: the envelope as it was, and why.
public struct DeadLetter: Codable, Sendable, Equatable {
    public var job: JobEnvelope
    public var reason: String
    public var attempts: Int
    public var lastError: String?
    /// Milliseconds since 1970.
    public var failedAt: Int64

    public init(job: JobEnvelope, reason: String, attempts: Int, lastError: String?, failedAt: Int64 = JobEnvelope.nowMilliseconds()) {
        self.job = job
        self.reason = reason
        self.attempts = attempts
        self.lastError = lastError
        self.failedAt = failedAt
    }
}
