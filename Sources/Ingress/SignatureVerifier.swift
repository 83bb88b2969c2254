import Crypto
import Foundation
import HTTPSupport
import TrackingConfig

/// Checks a webhook's HMAC-SHA256 signature as configured (docs/architecture.md §5): which header holds it,
/// hex or base64, over the raw body or `id.timestamp.body`, with a timestamp tolerance. The
/// Standard Webhooks preset is `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`
/// (several space-separated), secrets optionally `whsec_<base64>`.
///
/// Its cost is bounded whatever the request holds (docs/security.md): the MAC is computed once per
/// configured key, never per presented candidate; at most ``maxCandidates`` candidates are read and
/// those that cannot be a SHA-256 MAC (wrong length, empty, undecodable) are dropped before any
/// comparison; every comparison is constant-time. A timestamp is strict decimal digits, and the
/// tolerance check saturates instead of overflowing.
public struct SignatureVerifier: Sendable {
    public enum Failure: Error, Equatable, Sendable {
        case missingSignature
        case missingTimestamp
        case staleTimestamp
        case badSignature
    }

    /// How many `v1,` entries are read from one header: senders present one, or two during a key
    /// rotation (Standard Webhooks' own libraries stop at a similar cap).
    public static let maxCandidates = 32
    /// A SHA-256 MAC's length: no other candidate can match.
    static let macLength = SHA256.byteCount

    let header: String
    let encoding: SignatureSettings.Encoding
    let signsIDAndTimestamp: Bool
    let idHeader: String
    let timestampHeader: String
    let tolerance: Int
    let isStandardWebhooks: Bool
    private let keys: [SymmetricKey]

    public init(settings: SignatureSettings, secrets: [String]) {
        isStandardWebhooks = settings.preset == .standardWebhooks
        header = isStandardWebhooks ? "webhook-signature" : settings.header.lowercased()
        encoding = isStandardWebhooks ? .base64 : settings.encoding
        signsIDAndTimestamp = isStandardWebhooks || settings.signedContent == .idTimestampBody
        idHeader = isStandardWebhooks ? "webhook-id" : settings.idHeader.lowercased()
        timestampHeader = isStandardWebhooks ? "webhook-timestamp" : settings.timestampHeader.lowercased()
        tolerance = settings.toleranceSeconds
        keys = secrets.map { secret in
            if secret.hasPrefix("whsec_"), let decoded = Data(base64Encoded: String(secret.dropFirst(6))) {
                return SymmetricKey(data: decoded)
            }
            return SymmetricKey(data: Array(secret.utf8))
        }
    }

    /// `headers` maps lower-cased header names to values.
    public func verify(body: [UInt8], headers: (String) -> String?, now: Date = Date()) throws(Failure) {
        guard let presented = headers(header), !presented.isEmpty else { throw .missingSignature }
        var prefix: [UInt8] = []
        if signsIDAndTimestamp {
            guard let timestamp = headers(timestampHeader), let seconds = Self.unixSeconds(timestamp) else { throw .missingTimestamp }
            guard Self.isWithin(tolerance, seconds: seconds, of: now) else { throw .staleTimestamp }
            prefix = Array("\(headers(idHeader) ?? "").\(timestamp).".utf8)
        }
        let candidates = signatures(in: presented)
        guard !candidates.isEmpty else { throw .badSignature }
        // No short-circuit on a match: every key's MAC meets every candidate, so timing does not
        // tell which key or which candidate matched.
        var matched = false
        for key in keys {
            var hmac = HMAC<SHA256>(key: key)
            hmac.update(data: prefix)
            hmac.update(data: body)
            let expected = Array(hmac.finalize())
            for candidate in candidates where ConstantTime.equal(candidate, expected) {
                matched = true
            }
        }
        guard matched else { throw .badSignature }
    }

    /// The MACs a header value presents: `v1,<b64> v1,<b64>` for Standard Webhooks, else one value,
    /// optionally prefixed `sha256=`. Only the first ``maxCandidates`` entries are looked at, and
    /// only those decoding to a MAC's length are kept.
    func signatures(in value: String) -> [[UInt8]] {
        let parts: [Substring] =
            isStandardWebhooks
            ? Array(
                value.split(separator: " ", omittingEmptySubsequences: true).lazy
                    .filter { $0.hasPrefix("v1,") }.prefix(Self.maxCandidates).map { $0.dropFirst(3) })
            : [value.hasPrefix("sha256=") ? value.dropFirst(7) : Substring(value)]
        return parts.compactMap { part in
            // Longer text cannot decode to 32 bytes: skip it before decoding.
            guard !part.isEmpty, part.utf8.count <= 2 * Self.macLength + 8 else { return nil }
            let bytes = encoding == .hex ? Self.hexBytes(part) : Data(base64Encoded: String(part)).map(Array.init)
            return bytes?.count == Self.macLength ? bytes : nil
        }
    }

    /// A Unix time in whole seconds, as Standard Webhooks sends it: 1 to 20 ASCII decimal digits
    /// and nothing else (no sign, space, exponent or other script's digits). Values past `Int64`
    /// are nil, not a trap.
    static func unixSeconds(_ text: String) -> Int64? {
        let utf8 = text.utf8
        guard (1...20).contains(utf8.count) else { return nil }
        var value: Int64 = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    /// Whether `seconds` is within `tolerance` of `now`, in saturating arithmetic.
    static func isWithin(_ tolerance: Int, seconds: Int64, of now: Date) -> Bool {
        let current = Int64(now.timeIntervalSince1970.rounded(.down))
        let (difference, overflow) = current.subtractingReportingOverflow(seconds)
        guard !overflow, difference != .min else { return false }
        return difference.magnitude <= UInt64(max(0, tolerance))
    }

    static func hexBytes(_ text: Substring) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
