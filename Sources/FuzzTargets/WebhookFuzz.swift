import Ingress
import TrackingCore

/// The two webhook decoders: the ingress's one-pass check (`WebhookPayload` over
/// `JSONObjectScanner`), which faces the internet, and the worker's `WebhookEvent`, which decodes
/// whatever the ingress queued. Input: the raw body.
public enum WebhookFuzz {
    static let scanner = WebhookPayload.scanner(idField: "id")
    /// Names nested and escaped members too, so the scanner's capture of other slots is exercised.
    static let wideScanner = JSONObjectScanner(members: ["booking", "event", "id", "timestamp", "é", "a\"b"])

    public static func run(_ data: [UInt8]) {
        let payload = try? WebhookPayload(body: data, scanner: scanner)
        if let found = try? wideScanner.scan(data) {
            for value in found.compactMap({ $0 }) { _ = JSONObjectScanner.string(value) }
        }
        // The worker sees only what the ingress accepted, but its decoder must not trap on anything.
        if payload != nil || data.count < 2048, let text = String(validating: data, as: UTF8.self) {
            _ = try? WebhookEvent(body: text)
        }
    }
}
