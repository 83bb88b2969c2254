import Configuration
import Foundation
import Ingress
import TrackingConfig

/// The webhook signature check (`SignatureVerifier`) against hostile headers and bodies, in the
/// Standard Webhooks preset and the custom hex/base64 ones, over the body or `id.timestamp.body`.
///
/// Input: one byte choosing the verifier (``modes``), then `signature \n timestamp \n id \n body`;
/// a field the input does not reach is an absent header. Every run checks against the fixed
/// ``now``, so corpus files with a valid signature and timestamp stay valid.
public enum SignatureFuzz {
    public static let now = Date(timeIntervalSince1970: 1_700_000_000)
    static let tolerance = 300
    /// Two keys, as during a rotation, so every candidate meets more than one MAC.
    static let secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "fuzz-signing-secret-0123456789"]

    struct Mode: Sendable {
        let verifier: SignatureVerifier
        let signatureHeader: String
        let signsTimestamp: Bool
    }

    /// Indexed by the input's first byte (modulo their count).
    static let modes: [Mode] = [
        mode(["preset": "standardWebhooks"], signatureHeader: "webhook-signature", signsTimestamp: true),
        mode(["encoding": "hex", "signedContent": "body"], signatureHeader: "x-booxi-signature", signsTimestamp: false),
        mode(["encoding": "base64", "signedContent": "body"], signatureHeader: "x-booxi-signature", signsTimestamp: false),
        mode(["encoding": "hex", "signedContent": "id.timestamp.body"], signatureHeader: "x-booxi-signature", signsTimestamp: true),
        mode(["encoding": "base64", "signedContent": "id.timestamp.body"], signatureHeader: "x-booxi-signature", signsTimestamp: true),
    ]

    public static func run(_ data: [UInt8]) {
        guard let selector = data.first else { return }
        let mode = modes[Int(selector) % modes.count]
        let fields = FuzzFields(data.dropFirst(), count: 4)
        let headers = [mode.signatureHeader: fields.text(0), "webhook-timestamp": fields.text(1), "webhook-id": fields.text(2)]
        do {
            try mode.verifier.verify(body: Array(fields[3] ?? []), headers: { headers[$0] ?? nil }, now: now)
        } catch {
            return
        }
        // Accepted: then the timestamp was a number within the tolerance, whatever its spelling.
        if mode.signsTimestamp {
            let seconds = fields.text(1).flatMap { Int($0) }
            precondition(seconds.map { abs($0 - Int(now.timeIntervalSince1970)) <= tolerance } == true, "accepted a stale or unparsable timestamp")
        }
    }

    /// A verifier configured through the real settings reader, from the defaults' values plus `overrides`.
    private static func mode(_ overrides: [String: String], signatureHeader: String, signsTimestamp: Bool) -> Mode {
        var values: [String: ConfigValue] = [
            "enabled": true, "preset": "custom", "header": "x-booxi-signature", "encoding": "hex", "signedContent": "body",
            "idHeader": "webhook-id", "timestampHeader": "webhook-timestamp", "toleranceSeconds": ConfigValue(.int(tolerance), isSecret: false),
        ]
        for (key, value) in overrides { values[key] = ConfigValue(.string(value), isSecret: false) }
        let provider = InMemoryProvider(
            values: Dictionary(uniqueKeysWithValues: values.map { (AbsoluteConfigKey(["ingress", "signature", $0.key]), $0.value) }))
        // Fixed values: failing here is a bug in this file, not a finding.
        let settings = try! SignatureSettings(settings: SettingsReader(reader: ConfigReader(provider: provider)))
        return Mode(
            verifier: SignatureVerifier(settings: settings, secrets: secrets), signatureHeader: signatureHeader, signsTimestamp: signsTimestamp)
    }
}
