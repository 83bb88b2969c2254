import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import JobQueue
import NIOCore
import RedisClient
import TestSupport
import Testing

@Suite("Ingress: Redis down, and shutdown under load", .tags(.slow), .fullTierOnly)
struct IngressFailureTests {
    @Test func redisDownAnswers503AndRecoversWithoutRestart() async throws {
        // appendfsync always: whatever Redis acknowledged survives its kill -9.
        let test = try IngressTestCase(redisArguments: ["--appendonly", "yes", "--appendfsync", "always"])
        defer { Task { await test.finish() } }
        try await test.run { client in
            var acknowledged = 0
            for index in 0..<20 {
                let response = try await client.webhook(Array(#"{"event":"booking.confirmed","n":\#(index)}"#.utf8))
                if response.status == .ok { acknowledged += 1 }
            }
            #expect(acknowledged == 20)
            test.server.kill()
            for index in 0..<10 {
                let response = try await client.webhook(Array(#"{"event":"booking.confirmed","down":\#(index)}"#.utf8))
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "5")
                #expect(response.jsonError?.code == "unavailable")
            }
            #expect(try await test.readiness() == .serviceUnavailable)
            // Not on the public listener: only `/healthz` is.
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            try test.server.start()
            var recovered = false
            for index in 0..<100 where !recovered {
                let response = try await client.webhook(Array(#"{"event":"booking.confirmed","after":\#(index)}"#.utf8))
                if response.status == .ok { acknowledged += 1; recovered = true } else { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(recovered)
            #expect(try await test.readiness() == .ok)
            let queued = try await test.queued()
            #expect(queued.count == acknowledged)
            #expect(!queued.contains { $0.payload.contains("down") })
        }
    }

    @Test func sigtermUnderLoadLosesNoAcknowledgedEvent() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let port = freeLoopbackPort()
        let ingress = try RoleProcess(
            ["ingress"],
            environment: [
                "BXT_REDIS_URL": server.url, "BXT_INGRESS_PORT": "\(port)", "BXT_INGRESS_HOST": "127.0.0.1", "BXT_LOG_LEVEL": "info",
                "BXT_INGRESS_OPS_PORT": "\(freeLoopbackPort())", "BXT_WEBHOOK_TOKENS": testWebhookToken,
            ])
        defer { ingress.stop() }
        try await RoleProcess.waitUntilHealthy("http://127.0.0.1:\(port)/healthz")

        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let acknowledgedIDs = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<32 {
                group.addTask {
                    var ids: [String] = []
                    for index in 0..<200 {
                        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/webhooks/booxi")
                        request.method = .POST
                        request.headers.add(name: "content-type", value: "application/json")
                        request.headers.add(name: "x-webhook-token", value: testWebhookToken)
                        request.body = .bytes(ByteBuffer(string: #"{"event":"booking.confirmed","w":\#(worker),"n":\#(index)}"#))
                        // Once the server is gone, stop: the client would retry the connection until the deadline.
                        guard let response = try? await client.execute(request, timeout: .seconds(5)) else { break }
                        let body = try? await response.body.collect(upTo: 1 << 16)
                        if response.status == .ok, let body,
                            let json = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any],
                            let id = json["id"] as? String
                        {
                            ids.append(id)
                        }
                    }
                    return ids
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(400))
                ingress.signal(SIGTERM)
                return []
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        try await client.shutdown()
        let status = await ingress.waitForExit()
        #expect(status == 0, "ingress exit status \(String(describing: status)); log:\n\(ingress.log)")
        #expect(acknowledgedIDs.count > 0)
        #expect(acknowledgedIDs.count < 32 * 200, "SIGTERM came after the load ended; the test proved nothing")

        let redis = RedisClient(configuration: server.configuration())
        defer { Task { await redis.shutdown() } }
        let queuedIDs = Set(try await redis.lrange("bxt:{q}:webhooks", 0, -1).map { try JobEnvelope.decode($0).id })
        let missing = acknowledgedIDs.filter { !queuedIDs.contains($0) }
        #expect(missing.isEmpty, "\(missing.count) acknowledged webhooks are not in Redis")
    }
}
