import Crypto
import Foundation
import TrackingConfig

/// Checks a webhook's HMAC-SHA256 signature as configured (docs/architecture.md §5): which header holds it,
/// hex or base64, over the raw body or `id.timestamp.body`, with a timestamp tolerance. The
/// Standard Webhooks preset is `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`
/// (several space-separated), secrets optionally `whsec_<base64>`.
struct SignatureVerifier: Sendable {
    enum Failure: Error, Equatable {
        case missingSignature
        case missingTimestamp
        case staleTimestamp
        case badSignature
    }

    let header: String
    let encoding: SignatureSettings.Encoding
    let signsIDAndTimestamp: Bool
    let idHeader: String
    let timestampHeader: String
    let tolerance: Int
    let isStandardWebhooks: Bool
    private let keys: [SymmetricKey]

    init(settings: SignatureSettings, secrets: [String]) {
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
    func verify(body: [UInt8], headers: (String) -> String?, now: Date = Date()) throws(Failure) {
        guard let presented = headers(header), !presented.isEmpty else { throw .missingSignature }
        var signed = body
        if signsIDAndTimestamp {
            guard let timestamp = headers(timestampHeader), let seconds = Int(timestamp) else { throw .missingTimestamp }
            guard abs(Int(now.timeIntervalSince1970) - seconds) <= tolerance else { throw .staleTimestamp }
            signed = Array("\(headers(idHeader) ?? "").\(timestamp).".utf8) + body
        }
        let candidates = signatures(in: presented)
        for key in keys {
            for candidate in candidates where HMAC<SHA256>.isValidAuthenticationCode(candidate, authenticating: signed, using: key) {
                return
            }
        }
        throw .badSignature
    }

    /// The MACs a header value presents: `v1,<b64> v1,<b64>` for Standard Webhooks, else one value,
    /// optionally prefixed `sha256=`.
    private func signatures(in value: String) -> [[UInt8]] {
        let parts: [Substring] =
            isStandardWebhooks
            ? value.split(separator: " ").compactMap { entry in
                entry.hasPrefix("v1,") ? entry.dropFirst(3) : nil
            }
            : [value.hasPrefix("sha256=") ? value.dropFirst(7) : Substring(value)]
        return parts.compactMap { part in
            encoding == .hex ? Self.hexBytes(part) : Data(base64Encoded: String(part)).map(Array.init)
        }
    }

    static func hexBytes(_ text: Substring) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
