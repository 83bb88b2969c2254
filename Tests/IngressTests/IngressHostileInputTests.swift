import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Ingress
import Logging
import TestSupport
import TrackingConfig
import Testing

@Suite("Ingress: safe defaults and bounded cost under hostile input")
struct IngressHostileInputTests {
    let body = Array(#"{"event":"booking.confirmed","booking":{}}"#.utf8)
    static let secret = "standard-secret-0123456789abcdef"

    @Test func refusesToStartWithoutAuthentication() async throws {
        let test = try IngressTestCase()
        defer { Task { await test.finish() } }
        let configuration = try await testConfiguration(redis: test.server)
        #expect(configuration.secrets.webhookTokens.isEmpty && !configuration.ingress.allowUnauthenticated)
        let error = #expect(throws: ConfigurationError.self) {
            _ = try buildIngressApplication(configuration: configuration, redis: test.redis, logger: Logger(label: "test"))
        }
        // The one line names every setting that fixes it.
        let line = "\(try #require(error))"
        for setting in [
            "BXT_WEBHOOK_TOKENS", "BXT_WEBHOOK_SIGNING_SECRETS", "BXT_OAUTH_CLIENT_SECRET", "ingress.allowedSources", "ingress.allowUnauthenticated",
        ] {
            #expect(line.contains(setting), "\(setting) missing from: \(line)")
        }
        #expect(!line.contains("\n"))
    }

    @Test func allowUnauthenticatedIsExplicitAndWarns() async throws {
        let test = try IngressTestCase(["BXT_INGRESS_ALLOW_UNAUTHENTICATED": "true"])
        defer { Task { await test.finish() } }
        let logs = LogCapture()
        let configuration = try await testConfiguration(redis: test.server, test.environment)
        let app = try buildIngressApplication(configuration: configuration, redis: test.redis, logger: logs.logger)
        #expect(logs.text.split(separator: "\n").contains { $0.contains("warning") && $0.contains("allowUnauthenticated") })
        try await app.test(.live) { client in
            try Task.checkCancellation()
            #expect(try await client.webhook(body, token: nil).status == .ok)
        }
        #expect(try await test.queued().count == 1)
    }

    @Test func hostileTimestampsAreRefusedNotFatal() async throws {
        for preset in [["BXT_INGRESS_SIGNATURE_PRESET": "standardWebhooks"], ["BXT_INGRESS_SIGNATURE_SIGNED_CONTENT": "id.timestamp.body"]] {
            let test = try IngressTestCase(
                ["BXT_INGRESS_SIGNATURE_ENABLED": "true", "BXT_WEBHOOK_SIGNING_SECRETS": Self.secret].merging(preset) { _, new in new })
            defer { Task { await test.finish() } }
            let standard = preset["BXT_INGRESS_SIGNATURE_PRESET"] != nil
            let header = standard ? "webhook-signature" : "x-booxi-signature"
            let hostile = [
                "-9223372036854775808", "-9223372036854775809", "9223372036854775807", "9223372036854775808", "99999999999999999999",
                "999999999999999999999", "-1", "+1700000000", " 1700000000", "1700000000 ", "1e9", "0x10", "", "١٧٠٠٠٠٠٠٠٠", "1.5", "\u{0}",
            ]
            try await test.run { client in
                for timestamp in hostile {
                    let response = try await client.webhook(body, headers: ["webhook-id": "m", "webhook-timestamp": timestamp, header: "v1,AAAA"])
                    #expect(response.status == .unauthorized, "\(timestamp)")
                    #expect(["missing_timestamp", "stale_timestamp", "missing_signature"].contains(response.jsonError?.code ?? ""), "\(timestamp)")
                }
                // Still serving after all of them.
                let now = Int(Date().timeIntervalSince1970)
                let good = try await client.webhook(
                    body, headers: ["webhook-id": "m", "webhook-timestamp": "\(now)", header: Self.sign("m", "\(now)", body, standard: standard)])
                #expect(good.status == .ok)
            }
            #expect(try await test.queued().count == 1)
        }
    }

    @Test func candidateFloodsCostOneMACPerKey() async throws {
        let test = try IngressTestCase([
            "BXT_INGRESS_SIGNATURE_ENABLED": "true", "BXT_WEBHOOK_SIGNING_SECRETS": Self.secret,
            "BXT_INGRESS_SIGNATURE_PRESET": "standardWebhooks",
        ])
        defer { Task { await test.finish() } }
        let now = "\(Int(Date().timeIntervalSince1970))"
        let valid = Self.sign("m", now, body)
        try await test.run { client in
            let flood = Array(repeating: "v1,", count: 4_000).joined(separator: " ")
            let empty = try await client.webhook(body, headers: ["webhook-id": "m", "webhook-timestamp": now, "webhook-signature": flood])
            #expect(empty.status == .unauthorized && empty.jsonError?.code == "bad_signature")
            // A valid signature behind more than the cap's worth of candidates is not looked at.
            let buried = Array(repeating: "v1,AAAA", count: SignatureVerifier.maxCandidates).joined(separator: " ") + " " + valid
            let late = try await client.webhook(body, headers: ["webhook-id": "m", "webhook-timestamp": now, "webhook-signature": buried])
            #expect(late.jsonError?.code == "bad_signature")
            // A rotation's two candidates, the good one second.
            let rotation = "v1,\(Data(repeating: 7, count: 32).base64EncodedString()) \(valid)"
            #expect(
                try await client.webhook(body, headers: ["webhook-id": "m", "webhook-timestamp": now, "webhook-signature": rotation]).status == .ok)
        }
        #expect(try await test.queued().count == 1)
    }

    @Test func credentialsAreCheckedBeforeTheBodyIsRead() async throws {
        let test = try IngressTestCase(["BXT_INGRESS_BODY_LIMIT_BYTES": "1024"])
        defer { Task { await test.finish() } }
        let large = Array(#"{"event":"booking.confirmed","pad":""#.utf8) + Array(repeating: UInt8(ascii: "x"), count: 64 * 1024) + Array(#""}"#.utf8)
        try await test.run { client in
            try Task.checkCancellation()
            // Without the right token the answer is 401, whatever the body: it was never read.
            #expect(try await client.webhook(large, token: "wrong-token-0123456789").jsonError?.code == "bad_token")
            #expect(try await client.webhook(large, token: nil).jsonError?.code == "missing_token")
            #expect(try await client.webhook(large).jsonError?.code == "body_too_large")
        }
        #expect(try await test.queued().isEmpty)
    }

    @Test func theTokenEndpointIsThrottledAndBoundsCredentials() async throws {
        let test = try IngressTestCase([
            "BXT_INGRESS_OAUTH_ENABLED": "true", "BXT_OAUTH_CLIENT_SECRET": "client-secret-0123456789", "BXT_INGRESS_OAUTH_CLIENT_ID": "booxi",
        ])
        defer { Task { await test.finish() } }
        try await test.run { client in
            func request(_ form: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/oauth/token", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: form))
            }
            let huge = String(repeating: "s", count: 8_000)
            let long = try await request("grant_type=client_credentials&client_id=booxi&client_secret=\(huge)")
            #expect(long.status == .unauthorized)
            // Concurrent guesses: counted before they are checked, so at most the limit get through.
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<30 {
                    group.addTask { try await request("grant_type=client_credentials&client_id=booxi&client_secret=guess\(index)").status }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .unauthorized }.count == OAuthTokenEndpoint.attemptsPerMinute - 1)
            #expect(statuses.filter { $0 == .tooManyRequests }.count == 30 - (OAuthTokenEndpoint.attemptsPerMinute - 1))
            let throttled = try await request("grant_type=client_credentials&client_id=booxi&client_secret=client-secret-0123456789")
            #expect(throttled.status == .tooManyRequests && throttled.headers[.retryAfter] == "60")
        }
    }

    @Test func timestampsAreStrictDecimalDigits() {
        #expect(SignatureVerifier.unixSeconds("1700000000") == 1_700_000_000)
        #expect(SignatureVerifier.unixSeconds("0001700000000") == 1_700_000_000)
        #expect(SignatureVerifier.unixSeconds("9223372036854775807") == .max)
        for refused in ["", "-1", "+1", " 1", "1 ", "1e3", "0x10", "١٢٣", "９", "9223372036854775808", "123456789012345678901", "1.0"] {
            #expect(SignatureVerifier.unixSeconds(refused) == nil, "\(refused)")
        }
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(SignatureVerifier.isWithin(300, seconds: 1_700_000_300, of: now))
        #expect(!SignatureVerifier.isWithin(300, seconds: 1_700_000_301, of: now))
        #expect(!SignatureVerifier.isWithin(300, seconds: .max, of: now))
        #expect(!SignatureVerifier.isWithin(300, seconds: 0, of: now))
        #expect(!SignatureVerifier.isWithin(300, seconds: .min, of: now))
    }

    @Test func candidatesOfTheWrongShapeAreDropped() async throws {
        let settings = try await testConfiguration(redis: nil, ["BXT_INGRESS_SIGNATURE_PRESET": "standardWebhooks"]).ingress.signature
        let verifier = SignatureVerifier(settings: settings, secrets: [Self.secret])
        let mac = Data(repeating: 1, count: 32).base64EncodedString()
        #expect(verifier.signatures(in: "v1, v1,AAAA v2,\(mac) v1,\(mac)").count == 1)
        let many = Array(repeating: "v1,\(mac)", count: 100).joined(separator: " ")
        #expect(verifier.signatures(in: many).count == SignatureVerifier.maxCandidates)
        #expect(SignatureVerifier.hexBytes("0aFf") == [0x0a, 0xff])
        #expect(SignatureVerifier.hexBytes("0g") == nil && SignatureVerifier.hexBytes("abc") == nil)
    }

    /// Standard Webhooks' `v1,<base64>`, or the custom preset's default hex.
    static func sign(_ id: String, _ timestamp: String, _ body: [UInt8], standard: Bool = true) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
        return standard ? "v1,\(Data(mac).base64EncodedString())" : mac.map { String(format: "%02x", $0) }.joined()
    }
}
