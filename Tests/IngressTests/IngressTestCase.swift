import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingress
import JobQueue
import Logging
import RedisClient
import TestSupport

/// One ingress on a free port over a throwaway Redis, for a scenario.
struct IngressTestCase {
    let server: RedisServer
    let redis: RedisClient
    let environment: [String: String]

    init(_ environment: [String: String] = [:], redisArguments: [String] = []) throws {
        server = try RedisServer(extraArguments: redisArguments)
        var configuration = server.configuration()
        configuration.commandTimeout = .seconds(2)
        configuration.poolWaitTimeout = .seconds(2)
        redis = RedisClient(configuration: configuration)
        // An ingress refuses to start without webhook authentication: a scenario that configures
        // none gets the harness token (which `webhook` sends).
        let authentication = [
            "BXT_WEBHOOK_TOKENS", "BXT_INGRESS_SIGNATURE_ENABLED", "BXT_INGRESS_OAUTH_ENABLED", "BXT_INGRESS_ALLOWED_SOURCES",
            "BXT_INGRESS_ALLOW_UNAUTHENTICATED",
        ]
        self.environment =
            authentication.contains { environment[$0] != nil }
            ? environment : environment.merging(["BXT_WEBHOOK_TOKENS": testWebhookToken]) { own, _ in own }
    }

    func run(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let configuration = try await testConfiguration(redis: server, environment)
        let app = try buildIngressApplication(configuration: configuration, redis: redis, logger: Logger(label: "test.ingress"))
        try await app.test(.live) { client in try await test(client) }
    }

    /// The ingress' operations listener, as the role runs it beside the public one.
    func readiness() async throws -> HTTPResponse.Status {
        let operations = buildOperationsApplication(host: "127.0.0.1", port: 0, logger: Logger(label: "test.ops")) { [redis] in
            await redis.isReachable()
        }
        return try await operations.test(.router) { client in try await client.execute(uri: "/readyz", method: .get).status }
    }

    func queued() async throws -> [JobEnvelope] {
        try await redis.lrange("bxt:{q}:webhooks", 0, -1).map(JobEnvelope.decode).reversed()
    }

    func finish() async {
        await redis.shutdown()
        server.stop()
    }
}

extension TestClientProtocol {
    /// Posts a webhook body as JSON with extra headers, and the harness token unless `token` is nil.
    func webhook(
        _ body: [UInt8], path: String = "/webhooks/booxi", method: HTTPRequest.Method = .post,
        headers extra: [String: String] = [:], contentType: String? = "application/json", token: String? = testWebhookToken
    ) async throws -> TestResponse {
        var headers = HTTPFields()
        if let contentType { headers[.contentType] = contentType }
        if let token { headers[HTTPField.Name("x-webhook-token")!] = token }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        return try await execute(uri: path, method: method, headers: headers, body: ByteBuffer(bytes: body))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The `error` and `code` of our JSON error shape.
    var jsonError: (error: String, code: String)? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
            let error = object["error"] as? String, let code = object["code"] as? String
        else { return nil }
        return (error, code)
    }
}
