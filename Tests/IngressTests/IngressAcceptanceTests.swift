import Foundation
import HTTPTypes
import HummingbirdTesting
import JobQueue
import RedisClient
import TestSupport
import Testing

@Suite("Ingress: accepting, validating and deduplicating webhooks")
struct IngressAcceptanceTests {
    @Test func validEventsLandOnTheListByteForByte() async throws {
        let test = try IngressTestCase()
        defer { Task { await test.finish() } }
        let body = try fixture("webhook-confirmed.json")
        try await test.run { client in
            let response = try await client.webhook(body, headers: ["webhook-timestamp": "1700000000"])
            #expect(response.status == .ok)
            #expect(response.text.contains(#""status":"queued""#))
            let put = try await client.webhook(try fixture("webhook-cancelled.json"), method: .put)
            #expect(put.status == .ok)
        }
        let queued = try await test.queued()
        #expect(queued.count == 2)
        #expect(Array(queued[0].payload.utf8) == body)
        #expect(queued[0].kind == .webhook && queued[0].attempt == 0)
        #expect(queued[0].headers?["webhook-timestamp"] == "1700000000")
        let cancelled = try fixture("webhook-cancelled.json")
        #expect(Array(queued[1].payload.utf8) == cancelled)
    }

    @Test func unknownEventsAreQueuedForTheWorkerToDecide() async throws {
        let test = try IngressTestCase()
        defer { Task { await test.finish() } }
        try await test.run { client in
            let response = try await client.webhook(Array(#"{"event":"booking.teleported","x":[1,2]}"#.utf8))
            #expect(response.status == .ok)
        }
        #expect(try await test.queued().map(\.payload) == [#"{"event":"booking.teleported","x":[1,2]}"#])
    }

    @Test func badBodiesGetClearJSONErrors() async throws {
        let test = try IngressTestCase(["BXT_INGRESS_BODY_LIMIT_BYTES": "1024"])
        defer { Task { await test.finish() } }
        try await test.run { client in
            let cases: [([UInt8], String?, HTTPResponse.Status, String)] = [
                (
                    Array(#"{"event":"booking.confirmed","pad":"\#(String(repeating: "x", count: 2000))"}"#.utf8), "application/json",
                    .contentTooLarge, "body_too_large"
                ),
                (Array("not json".utf8), "application/json", .badRequest, "invalid_body"),
                (Array(#"{"event":"#.utf8), "application/json", .badRequest, "invalid_body"),
                (Array("[1,2]".utf8), "application/json", .badRequest, "invalid_body"),
                (Array(#"{"event":42}"#.utf8), "application/json", .badRequest, "invalid_body"),
                (Array(#"{"booking":{}}"#.utf8), "application/json", .badRequest, "invalid_body"),
                ([0xFF, 0xFE, 0x7B], "application/json", .badRequest, "invalid_body"),
                (Array(#"{"event":"booking.confirmed"}"#.utf8), "text/plain", .unsupportedMediaType, "unsupported_media_type"),
                (Array(#"{"event":"booking.confirmed"}"#.utf8), nil, .unsupportedMediaType, "unsupported_media_type"),
            ]
            for (body, contentType, status, code) in cases {
                let response = try await client.webhook(body, contentType: contentType)
                #expect(response.status == status, "\(code)")
                #expect(response.jsonError?.code == code)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            }
            // A vendor JSON type with parameters is fine.
            let vendor = try await client.webhook(
                Array(#"{"event":"booking.confirmed"}"#.utf8), contentType: "application/vnd.booxi+json; charset=utf-8")
            #expect(vendor.status == .ok)
        }
        #expect(try await test.queued().count == 1)
    }

    @Test func duplicateDeliveriesAreQueuedOnce() async throws {
        let test = try IngressTestCase()
        defer { Task { await test.finish() } }
        try await test.run { client in
            let body = Array(#"{"event":"booking.confirmed","id":"evt-1","booking":{}}"#.utf8)
            #expect(try await client.webhook(body).text.contains("queued"))
            let again = try await client.webhook(body)
            #expect(again.status == .ok && again.text.contains("duplicate"))
            // The id may come in a header instead (Standard Webhooks' webhook-id).
            let other = Array(#"{"event":"booking.modified"}"#.utf8)
            #expect(try await client.webhook(other, headers: ["webhook-id": "msg-9"]).text.contains("queued"))
            #expect(try await client.webhook(other, headers: ["webhook-id": "msg-9"]).text.contains("duplicate"))
            // Without an id, every delivery is queued (the worker's idempotent apply is the safety net).
            #expect(try await client.webhook(other).text.contains("queued"))
        }
        #expect(try await test.queued().count == 3)
        let ttl = try await test.redis.send("TTL", "bxt:{q}:seen:evt-1").int ?? 0
        #expect(ttl > 259_000 && ttl <= 259_200)
    }

    @Test func thousandConcurrentRequestsAreAllAcknowledgedAndPresent() async throws {
        let test = try IngressTestCase()
        defer { Task { await test.finish() } }
        try await test.run { client in
            let oks = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<1_000 {
                    group.addTask {
                        let response = try await client.webhook(Array(#"{"event":"booking.confirmed","n":\#(index)}"#.utf8))
                        return response.status == .ok ? response.text : nil
                    }
                }
                return try await group.reduce(into: [String]()) { if let text = $1 { $0.append(text) } }
            }
            #expect(oks.count == 1_000)
        }
        let queued = try await test.queued()
        #expect(queued.count == 1_000)
        #expect(Set(queued.map(\.payload)).count == 1_000)
        // Exactly one LPUSH per acknowledged request: nothing pushed twice, nothing half-written.
        let batches = try await test.redis.send("INFO", "commandstats").string ?? ""
        #expect(batches.contains("cmdstat_lpush:calls=1000"))
    }
}
