import Foundation
import RedisClient
import Synchronization

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

    /// A unique job id shaped like a lower-case UUID: 64 random bits drawn once per process, then
    /// a counter. Unique within the process by construction and across processes with the
    /// randomness of the prefix; costs no system call (Foundation's `UUID()` opens `/dev/urandom`
    /// on Linux, and this runs once per webhook).
    public static func newID() -> String {
        let count = idCounter.add(1, ordering: .relaxed).newValue
        var bytes = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: idPrefix.bigEndian) { bytes.replaceSubrange(0..<8, with: $0) }
        withUnsafeBytes(of: count.bigEndian) { bytes.replaceSubrange(8..<16, with: $0) }
        bytes[6] = bytes[6] & 0x0F | 0x40  // version 4, as a random UUID
        bytes[8] = bytes[8] & 0x3F | 0x80  // RFC 4122 variant
        let hex = Array(bytes.hexString.utf8)
        var text = [UInt8]()
        text.reserveCapacity(36)
        for (index, digit) in hex.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { text.append(UInt8(ascii: "-")) }
            text.append(digit)
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let idPrefix = UInt64.random(in: .min ... .max)
    /// Starts at a random value too, so two processes that drew the same prefix still differ.
    private static let idCounter = Atomic<UInt64>(UInt64.random(in: 0 ... (UInt64.max >> 2)))

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
