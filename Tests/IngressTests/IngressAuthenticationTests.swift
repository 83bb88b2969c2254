import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@Suite("Ingress: every authentication form, alone and combined")
struct IngressAuthenticationTests {
    let body = Array(#"{"event":"booking.confirmed","booking":{}}"#.utf8)

    @Test func tokenInHeaderWithRotation() async throws {
        let test = try IngressTestCase(["BXT_WEBHOOK_TOKENS": "old-token-0123456789,new-token-0123456789"])
        defer { Task { await test.finish() } }
        try await test.run { client in
            try Task.checkCancellation()
            let missing = try await client.webhook(body, token: nil)
            #expect(missing.status == .unauthorized && missing.jsonError?.code == "missing_token")
            let wrong = try await client.webhook(body, token: "guess")
            #expect(wrong.status == .unauthorized && wrong.jsonError?.code == "bad_token")
            #expect(try await client.webhook(body, token: "old-token-0123456789").status == .ok)
            #expect(try await client.webhook(body, token: "new-token-0123456789").status == .ok)
        }
        #expect(try await test.queued().count == 2)
    }

    @Test func tokenInPath() async throws {
        let test = try IngressTestCase(["BXT_WEBHOOK_TOKENS": "path-secret-0123456789", "BXT_INGRESS_AUTH_TOKEN_IN_PATH": "true"])
        defer { Task { await test.finish() } }
        try await test.run { client in
            try Task.checkCancellation()
            #expect(try await client.webhook(body, path: "/webhooks/booxi/path-secret-0123456789").status == .ok)
            #expect(try await client.webhook(body, path: "/webhooks/booxi/wrong").status == .unauthorized)
            #expect(try await client.webhook(body, path: "/webhooks/booxi").status == .notFound)
        }
        #expect(try await test.queued().count == 1)
    }

    @Test func customHMACOverTheRawBodyInHex() async throws {
        let test = try IngressTestCase([
            "BXT_INGRESS_SIGNATURE_ENABLED": "true", "BXT_WEBHOOK_SIGNING_SECRETS": "sign-old-0123456789,sign-new-0123456789",
            "BXT_INGRESS_SIGNATURE_HEADER": "x-signature", "BXT_INGRESS_SIGNATURE_ENCODING": "hex",
        ])
        defer { Task { await test.finish() } }
        let good = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array("sign-new-0123456789".utf8)))
            .map { String(format: "%02x", $0) }.joined()
        try await test.run { client in
            try Task.checkCancellation()
            #expect(try await client.webhook(body, headers: ["x-signature": good]).status == .ok)
            #expect(try await client.webhook(body, headers: ["x-signature": "sha256=" + good]).status == .ok)
            let tampered = try await client.webhook(body + [0x20], headers: ["x-signature": good])
            #expect(tampered.status == .unauthorized && tampered.jsonError?.code == "bad_signature")
            let missing = try await client.webhook(body)
            #expect(missing.status == .unauthorized && missing.jsonError?.code == "missing_signature")
        }
        #expect(try await test.queued().count == 2)
    }

    @Test func standardWebhooksPresetWithTimestampTolerance() async throws {
        let secret = "whsec_" + Data("standard-secret-0123456789abcdef".utf8).base64EncodedString()
        let test = try IngressTestCase([
            "BXT_INGRESS_SIGNATURE_ENABLED": "true", "BXT_WEBHOOK_SIGNING_SECRETS": secret,
            "BXT_INGRESS_SIGNATURE_PRESET": "standardWebhooks",
        ])
        defer { Task { await test.finish() } }
        @Sendable func sign(_ id: String, _ timestamp: Int) -> String {
            let content = Array("\(id).\(timestamp).".utf8) + body
            let mac = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: Array("standard-secret-0123456789abcdef".utf8)))
            return "v1,\(Data(mac).base64EncodedString())"
        }
        let now = Int(Date().timeIntervalSince1970)
        try await test.run { client in
            try Task.checkCancellation()
            let ok = try await client.webhook(
                body,
                headers: [
                    "webhook-id": "msg_1", "webhook-timestamp": "\(now)", "webhook-signature": "v1,AAAA \(sign("msg_1", now))",
                ])
            #expect(ok.status == .ok)
            let stale = try await client.webhook(
                body,
                headers: [
                    "webhook-id": "msg_2", "webhook-timestamp": "\(now - 600)", "webhook-signature": sign("msg_2", now - 600),
                ])
            #expect(stale.status == .unauthorized && stale.jsonError?.code == "stale_timestamp")
            let otherID = try await client.webhook(
                body,
                headers: [
                    "webhook-id": "msg_3", "webhook-timestamp": "\(now)", "webhook-signature": sign("msg_1", now),
                ])
            #expect(otherID.jsonError?.code == "bad_signature")
            let noTimestamp = try await client.webhook(body, headers: ["webhook-id": "msg_4", "webhook-signature": sign("msg_4", now)])
            #expect(noTimestamp.jsonError?.code == "missing_timestamp")
        }
        #expect(try await test.queued().count == 1)
    }

    @Test func oauthClientCredentialsFlowEndToEnd() async throws {
        let test = try IngressTestCase([
            "BXT_INGRESS_OAUTH_ENABLED": "true", "BXT_OAUTH_CLIENT_SECRET": "client-secret-0123456789",
            "BXT_INGRESS_OAUTH_CLIENT_ID": "booxi-client", "BXT_INGRESS_OAUTH_TOKEN_TTL_SECONDS": "3",
        ])
        defer { Task { await test.finish() } }
        try await test.run { client in
            try Task.checkCancellation()
            func requestToken(_ form: String, basic: String? = nil) async throws -> TestResponse {
                var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                if let basic { headers[.authorization] = "Basic " + Data(basic.utf8).base64EncodedString() }
                return try await client.execute(uri: "/oauth/token", method: .post, headers: headers, body: ByteBuffer(string: form))
            }
            // RFC 6749 §5.2: `error` is the code, `error_description` the sentence; a client that
            // tried HTTP Basic is told the scheme in WWW-Authenticate.
            func oauthError(_ response: TestResponse) throws -> [String: String] {
                try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: String])
            }
            let refused = try await requestToken("grant_type=client_credentials&client_id=booxi-client&client_secret=nope")
            #expect(refused.status == .unauthorized && refused.headers[.wwwAuthenticate] == nil)
            #expect(try oauthError(refused) == ["error": "invalid_client", "error_description": "client authentication failed"])
            let refusedBasic = try await requestToken("grant_type=client_credentials", basic: "booxi-client:nope")
            #expect(refusedBasic.status == .unauthorized && refusedBasic.headers[.wwwAuthenticate]?.hasPrefix("Basic realm=") == true)
            let basicError = try oauthError(refusedBasic)["error"]
            #expect(basicError == "invalid_client" && refusedBasic.headers[.cacheControl] == "no-store")
            let password = try await requestToken("grant_type=password")
            let passwordError = try oauthError(password)["error"]
            #expect(password.status == .badRequest && passwordError == "unsupported_grant_type")
            let noGrant = try await requestToken("client_id=booxi-client")
            let noGrantError = try oauthError(noGrant)["error"]
            #expect(noGrant.status == .badRequest && noGrantError == "invalid_request")

            let issued = try await requestToken("grant_type=client_credentials", basic: "booxi-client:client-secret-0123456789")
            #expect(issued.status == .ok)
            let json = try JSONSerialization.jsonObject(with: Data(buffer: issued.body)) as? [String: Any]
            let token = try #require(json?["access_token"] as? String)
            #expect(json?["token_type"] as? String == "Bearer" && json?["expires_in"] as? Int == 3)

            #expect(try await client.webhook(body).jsonError?.code == "missing_bearer")
            #expect(try await client.webhook(body, headers: ["authorization": "Bearer forged"]).jsonError?.code == "bad_bearer")
            #expect(try await client.webhook(body, headers: ["authorization": "Bearer \(token)"]).status == .ok)
            // Tokens live in Redis, so another replica accepts them too; they expire (3 s: a loaded
            // machine may take a second between the token and its first use).
            try await Task.sleep(for: .milliseconds(3_300))
            let expired = try await client.webhook(body, headers: ["authorization": "Bearer \(token)"])
            #expect(expired.status == .unauthorized && expired.jsonError?.code == "bad_bearer")

            let form = try await requestToken("grant_type=client_credentials&client_id=booxi-client&client_secret=client-secret-0123456789")
            #expect(form.status == .ok)
        }
        #expect(try await test.queued().count == 1)
        #expect(try await test.redis.send("KEYS", "bxt:{i}:oauth:*").array?.count == 1)
    }

    @Test func sourceAllowListHonoursTrustedProxy() async throws {
        let closed = try IngressTestCase(["BXT_INGRESS_ALLOWED_SOURCES": "10.0.0.0/8"])
        defer { Task { await closed.finish() } }
        try await closed.run { client in
            try Task.checkCancellation()
            let refused = try await client.webhook(body, headers: ["x-forwarded-for": "10.1.2.3"])
            #expect(refused.status == .forbidden && refused.jsonError?.code == "source_not_allowed")
        }
        let proxied = try IngressTestCase(["BXT_INGRESS_ALLOWED_SOURCES": "10.0.0.0/8,192.168.1.7", "BXT_INGRESS_TRUSTED_PROXIES": "127.0.0.1/32"])
        defer { Task { await proxied.finish() } }
        try await proxied.run { client in
            try Task.checkCancellation()
            #expect(try await client.webhook(body, headers: ["x-forwarded-for": "10.1.2.3"]).status == .ok)
            #expect(try await client.webhook(body, headers: ["x-forwarded-for": "8.8.8.8, 192.168.1.7"]).status == .ok)
            #expect(try await client.webhook(body, headers: ["x-forwarded-for": "8.8.8.8"]).status == .forbidden)
            #expect(try await client.webhook(body).status == .forbidden)
        }
        #expect(try await proxied.queued().count == 2)
    }

    @Test func formsCombine() async throws {
        let test = try IngressTestCase([
            "BXT_WEBHOOK_TOKENS": "tok-0123456789abcdef", "BXT_INGRESS_SIGNATURE_ENABLED": "true",
            "BXT_WEBHOOK_SIGNING_SECRETS": "sig-0123456789abcdef",
            "BXT_INGRESS_SIGNATURE_ENCODING": "base64",
        ])
        defer { Task { await test.finish() } }
        let signature = Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array("sig-0123456789abcdef".utf8))))
            .base64EncodedString()
        try await test.run { client in
            try Task.checkCancellation()
            #expect(try await client.webhook(body, token: "tok-0123456789abcdef").status == .unauthorized)
            #expect(try await client.webhook(body, headers: ["x-booxi-signature": signature], token: nil).status == .unauthorized)
            #expect(try await client.webhook(body, headers: ["x-booxi-signature": signature], token: "tok-0123456789abcdef").status == .ok)
        }
        #expect(try await test.queued().count == 1)
    }
}
