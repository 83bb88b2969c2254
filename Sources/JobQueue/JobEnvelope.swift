import Foundation

/// What travels through the queues: one job with its bookkeeping. The payload is kept as the exact
/// text it arrived with (a webhook body byte for byte, or a command's JSON).
public struct JobEnvelope: Codable, Sendable, Equatable {
    public var id: String
    public var kind: String
    /// Milliseconds since 1970 when the job entered the system.
    public var receivedAt: Int64
    /// How many times processing was attempted and failed (or was interrupted by a crash).
    public var attempt: Int
    public var payload: String
    /// Selected request headers of a webhook (e.g. `webhook-id`).
    public var headers: [String: String]?
    public var lastError: String?

    public init(
        id: String = JobEnvelope.newID(), kind: String, receivedAt: Int64 = JobEnvelope.nowMilliseconds(),
        attempt: Int = 0, payload: String, headers: [String: String]? = nil, lastError: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.receivedAt = receivedAt
        self.attempt = attempt
        self.payload = payload
        self.headers = headers
        self.lastError = lastError
    }

    /// A random (version 4) UUID in lower case. Foundation's `UUID()` opens `/dev/urandom` on every
    /// call on Linux; this takes the bytes from `getrandom` through the standard library.
    public static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (generator.next() as UInt64, generator.next() as UInt64)
        withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = raw[6] & 0x0F | 0x40  // version 4
            raw[8] = raw[8] & 0x3F | 0x80  // RFC 4122 variant
        }
        let uuid = withUnsafeBytes(of: bytes) { raw in raw.load(as: uuid_t.self) }
        return UUID(uuid: uuid).uuidString.lowercased()
    }

    public static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }

    /// The envelope as JSON, members sorted, as `JSONEncoder` would write it (once per webhook:
    /// written by hand, several times faster).
    public func encoded() -> [UInt8] {
        var json = JSONText(capacity: payload.utf8.count + 160)
        json.beginObject()
        json.member("attempt", attempt)
        json.member("headers", headers)
        json.member("id", id)
        json.member("kind", kind)
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
