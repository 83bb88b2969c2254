import BooxiModels
import Foundation
import TrackingCore
@testable import ReadAPI
import Testing

@Suite("Read API: the full flow over the simulator, a real worker and Redis", .serialized)
struct ReadAPIFlowTests {
    @Test func confirmedCancelledAndModifiedThroughThePage() async throws {
        let system = try await SystemTestCase.start()
        defer { Task { await system.finish() } }
        var everything = ""

        let code = try await system.book()
        let lookup = try await system.api("/api/tracking/\(code)")
        everything += lookup.body
        #expect(lookup.json["status"] as? String == "Approved")
        #expect(lookup.json["serviceName"] as? String == "Haircut" && lookup.json["duration"] as? Int == 30)
        #expect((lookup.json["client"] as? [String: String])?["firstName"] == "Ana")
        #expect((lookup.json["actions"] as? [String: Bool])?["canCancel"] == true)
        #expect(lookup.headers.first(name: "referrer-policy") == "no-referrer")
        #expect(lookup.headers.first(name: "strict-transport-security") == nil)  // no https public URL configured

        // Modify to another service and slot: the old code stops resolving, the new one resolves.
        let services = try await system.api("/api/tracking/\(code)/services")
        #expect(services.body.contains("Colour"))
        let from = Date().addingTimeInterval(5 * 86_400)
        let availability = try await system.api(
            "/api/tracking/\(code)/availability?serviceId=101&from=\(iso(from))&to=\(iso(from.addingTimeInterval(86_400)))")
        let slot = try #require((availability.json["slots"] as? [[String: Any]])?.first)
        // Slots carry an opaque token, never Booxi's staff ids (42 and 43 in the simulator's seed).
        everything += availability.body
        let slots = try #require(availability.json["slots"] as? [[String: Any]])
        #expect(slots.allSatisfy { Set($0.keys).isSubset(of: ["start", "end", "duration", "token"]) && $0["token"] is String })
        var withoutTokens = availability.body
        for token in slots.compactMap({ $0["token"] as? String }) { withoutTokens = withoutTokens.replacingOccurrences(of: token, with: "") }
        #expect(!withoutTokens.contains("staff") && !withoutTokens.contains("42") && !withoutTokens.contains("43"))
        let modify = try await system.api(.POST, "/api/tracking/\(code)/modify", json: #"{"slot":"\#(slot["token"]!)"}"#)
        everything += modify.body
        #expect(modify.status == 200, "\(modify.body)")
        let newCode = try #require(modify.json["trackingCode"] as? String)
        #expect(newCode != code && modify.json["serviceName"] as? String == "Colour")
        #expect(try await system.api("/api/tracking/\(code)").status == 404)
        #expect(try await system.api("/api/tracking/\(newCode)").json["startsOn"] as? String == slot["start"] as? String)

        // Cancel: 200 with the new state at once, before Booxi's webhook is processed.
        let cancel = try await system.api(.POST, "/api/tracking/\(newCode)/cancel")
        everything += cancel.body
        #expect(cancel.status == 200 && cancel.json["status"] as? String == "Cancelled")
        #expect((cancel.json["actions"] as? [String: Bool])?["canCancel"] == false)
        let again = try await system.api(.POST, "/api/tracking/\(newCode)/cancel")
        #expect(again.status == 409 && again.json["code"] as? String == "already_cancelled")
        // The simulator's own webhooks arrive later and change nothing.
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await system.api("/api/tracking/\(newCode)").json["status"] as? String == "Cancelled")

        everything += try await system.api("/api/tracking/\(newCode)").body
        #expect(!everything.contains("A0000") && !everything.contains(SystemTestCase.apiKey) && !everything.contains("@example.com"))
        #expect(!everything.contains("merchantId") && !everything.contains("staffId"))
    }

    @Test func headPreflightOperationsListenerAndStrictTransportSecurity() async throws {
        let system = try await SystemTestCase.start([
            "BXT_API_ALLOWED_ORIGINS": "https://shop.example", "BXT_API_PUBLIC_URL": "https://track.example.com",
        ])
        defer { Task { await system.finish() } }
        let code = try await system.book()
        // HEAD answers every GET route (the page, a lookup): the same status and headers, no body.
        // (identity: AsyncHTTPClient's decompressor cannot take a HEAD answer that says gzip.)
        let identity = ["accept-encoding": "identity"]
        for path in ["/track/\(code)", "/api/tracking/\(code)", "/api/tracking/unknownCode1"] {
            let get = try await system.api(.GET, path, headers: identity)
            let head = try await system.api(.HEAD, path, headers: identity)
            #expect(head.status == get.status && head.body.isEmpty, "\(path)")
            for name in ["content-type", "content-length", "content-security-policy", "cache-control", "strict-transport-security"] {
                #expect(head.headers.first(name: name) == get.headers.first(name: name), "\(path): \(name)")
            }
        }
        #expect(try await system.api(.HEAD, "/track/\(code)", headers: identity).headers.first(name: "content-length") != "0")
        // CORS preflight: answered for an allowed origin, refused for any other.
        let preflight = ["access-control-request-method": "POST", "access-control-request-headers": "content-type"]
        let allowed = try await system.api(
            .OPTIONS, "/api/tracking/\(code)/cancel", headers: preflight.merging(["origin": "https://shop.example"]) { $1 })
        #expect(allowed.status == 204 && allowed.headers.first(name: "access-control-allow-origin") == "https://shop.example")
        #expect(allowed.headers.first(name: "access-control-allow-methods")?.contains("POST") == true)
        let refused = try await system.api(
            .OPTIONS, "/api/tracking/\(code)/cancel", headers: preflight.merging(["origin": "https://evil.example"]) { $1 })
        #expect(refused.status == 403 && refused.json["code"] as? String == "cors_refused")
        #expect(refused.headers.first(name: "access-control-allow-origin") == nil)
        // Operational routes: only `/healthz` on the public listener, all three on the operations one.
        for path in ["/readyz", "/metrics"] {
            #expect(try await system.api(path).status == 404, "\(path) on the public port")
            #expect(try await system.request(system.opsPort, .GET, path).status == 200, "\(path) on the operations port")
        }
        #expect(try await system.api("/healthz").status == 200)
        #expect(try await system.request(system.opsPort, .GET, "/metrics").body.contains("booxi_tracking_booxi_calls_total"))
        // HSTS, since the public URL is https.
        #expect(try await system.api("/api/tracking/\(code)").headers.first(name: "strict-transport-security") == "max-age=31536000")
    }

    @Test func slowBooxiAnswers202ThenTheJobSucceeds() async throws {
        let system = try await SystemTestCase.start(["BXT_API_COMMAND_WAIT_MS": "200"])
        defer { Task { await system.finish() } }
        let code = try await system.book()
        _ = try await system.simulator(.PUT, "faults", #"{"latencyMs":800}"#)
        let accepted = try await system.api(.POST, "/api/tracking/\(code)/cancel")
        #expect(accepted.status == 202)
        let statusURL = try #require(accepted.json["statusUrl"] as? String)
        #expect(statusURL.hasPrefix("/api/tracking/\(code)/jobs/"))
        // Another change while this one runs: 409.
        let busy = try await system.api(.POST, "/api/tracking/\(code)/cancel")
        #expect(busy.status == 409 && busy.json["code"] as? String == "in_progress")
        let first = try await system.api(statusURL)
        #expect(["queued", "running"].contains(first.json["state"] as? String ?? ""))
        try await system.waitUntil { try await system.api(statusURL).json["state"] as? String == "succeeded" }
        #expect(try await system.api("/api/tracking/\(code)").json["status"] as? String == "Cancelled")
        // A job is only visible through its own code.
        let other = try await system.book(hour: 12)
        #expect(try await system.api(statusURL.replacingOccurrences(of: code, with: other)).status == 404)
    }

    @Test func booxiErrorsRetryThenSucceed() async throws {
        let system = try await SystemTestCase.start()
        defer { Task { await system.finish() } }
        let code = try await system.book()
        _ = try await system.simulator(.PUT, "faults", #"{"failNext":2,"errorStatus":500}"#)
        let cancel = try await system.api(.POST, "/api/tracking/\(code)/cancel")
        #expect(cancel.status == 200 && cancel.json["status"] as? String == "Cancelled")
        #expect(try await system.simulator(.GET, "calls").json["PUT /booking/{id}"] as? Int == 3)
    }

    @Test func refusalsAndBadInput() async throws {
        let system = try await SystemTestCase.start()
        defer { Task { await system.finish() } }
        let code = try await system.book()
        // Booxi refuses: the booking was completed at the business (we did not know yet).
        let booking = try await system.redis.send("GET", "bxt:{m}:code:\(code)").string ?? ""
        _ = try await system.simulator(.POST, "bookings/\(booking)/complete")
        let refused = try await system.api(.POST, "/api/tracking/\(code)/cancel")
        #expect(refused.status == 422 && refused.json["code"] as? String == "BookingIsCompleted")
        #expect(refused.json["error"] as? String == "This appointment is already completed.")

        let other = try await system.book(hour: 13)
        // Slot tokens: valid for `other`; forged, altered, expired or another booking's are refused.
        let from = Date().addingTimeInterval(6 * 86_400)
        let slots = try await system.api(
            "/api/tracking/\(other)/availability?serviceId=100&from=\(iso(from))&to=\(iso(from.addingTimeInterval(86_400)))")
        let token = try #require((slots.json["slots"] as? [[String: Any]])?.first?["token"] as? String)
        let third = try await system.book(hour: 16)
        let thirdSlots = try await system.api(
            "/api/tracking/\(third)/availability?serviceId=100&from=\(iso(from))&to=\(iso(from.addingTimeInterval(86_400)))")
        let foreign = try #require((thirdSlots.json["slots"] as? [[String: Any]])?.first?["token"] as? String)
        var altered = Array(token)
        altered[10] = altered[10] == "A" ? "B" : "A"
        let secret = SlotTokens(secret: SystemTestCase.apiKey, lifetime: .seconds(60))
        let expired = try secret.issue(
            bookingID: try await system.bookingID(of: other),
            slot: AvailabilitySlot(start: iso(from), end: nil, serviceId: 100, staffId: 42, duration: 30),
            serviceID: 100, now: Date().addingTimeInterval(-120))
        let forged = try SlotTokens(secret: "not-our-secret", lifetime: .seconds(60)).issue(
            bookingID: try await system.bookingID(of: other),
            slot: AvailabilitySlot(start: iso(from), end: nil, serviceId: 100, staffId: 42, duration: 30),
            serviceID: 100)
        let cases: [(String, Int, String)] = [
            (#"not json"#, 400, "invalid_body"),
            (#"{"startsOn":"\#(iso(from))","serviceId":100,"staffId":42}"#, 400, "invalid_body"),
            (#"{"slot":"garbage"}"#, 400, "invalid_slot"),
            (#"{"slot":"\#(String(altered))"}"#, 400, "invalid_slot"),
            (#"{"slot":"\#(forged)"}"#, 400, "invalid_slot"),
            (#"{"slot":"\#(foreign)"}"#, 400, "invalid_slot"),
            (#"{"slot":"\#(expired)"}"#, 400, "slot_expired"),
        ]
        for (body, status, errorCode) in cases {
            let reply = try await system.api(.POST, "/api/tracking/\(other)/modify", json: body)
            #expect(reply.status == status && reply.json["code"] as? String == errorCode, "\(body): \(reply.body)")
        }
        let range = try await system.api("/api/tracking/\(other)/availability?serviceId=100&from=2030-01-01T00:00:00Z&to=2030-03-01T00:00:00Z")
        #expect(range.status == 400 && range.json["code"] as? String == "range_too_long")
        // Unknown and malformed codes answer the same.
        let unknown = try await system.api("/api/tracking/doesNotExist123")
        let malformed = try await system.api("/api/tracking/bad%20code!")
        #expect(unknown.status == 404 && malformed.status == 404 && unknown.body == malformed.body)
        #expect(try await system.api("/api/tracking/doesNotExist123/services").status == 404)
        // The valid token still works after all that.
        let modified = try await system.api(.POST, "/api/tracking/\(other)/modify", json: #"{"slot":"\#(token)"}"#)
        #expect(modified.status == 200, "\(modified.body)")
    }

    @Test func repeatedLookupsComeFromMemoryAndAChangeInRedisShowsAtOnce() async throws {
        let system = try await SystemTestCase.start()
        defer { Task { await system.finish() } }
        let code = try await system.book()
        let bookingKey = "bxt:{m}:booking:\(try await system.redis.send("GET", "bxt:{m}:code:\(code)").string ?? "")"
        // Its copy stored and no fetch pending, so nothing writes the record while it is read.
        try await system.waitUntil {
            let pending = try await system.redis.send("HEXISTS", bookingKey, "fq").int == 1
            let copied = try await system.redis.send("HEXISTS", bookingKey, CachedCopy.marker).int == 1
            return !pending && copied
        }
        // Read once from Redis (kept), then 20 times from memory: no lookup reads the record.
        // Counted on this test's own Redis (the cache's metric is shared by every test in the
        // process). The first lookups the API may not keep (key tracking coming up): wait for one
        // that reads nothing.
        try await system.waitUntil {
            try await system.redis.send("CONFIG", "RESETSTAT")
            _ = try await system.api("/api/tracking/\(code)")
            return try await system.redisCalls("hgetall") == 0
        }
        let hitsBefore = try await system.lookupCacheHits()
        try await system.redis.send("CONFIG", "RESETSTAT")
        for _ in 0..<20 { #expect(try await system.api("/api/tracking/\(code)").json["status"] as? String == "Approved") }
        #expect(try await system.redisCalls("hgetall") == 0)
        #expect(try await system.lookupCacheHits() - hitsBefore >= 20)

        // Another replica's worker (here: the test) changes the record: the next lookups show it,
        // read from Redis (which also shows that a lookup that is not a hit reads `hgetall`).
        try await system.redis.send("HSET", bookingKey, "status", "Cancelled")
        try await system.waitUntil(timeout: .seconds(1)) {
            try await system.api("/api/tracking/\(code)").json["status"] as? String == "Cancelled"
        }
        #expect(try await system.redisCalls("hgetall") >= 1)
        // The code removed (a retired code): 404 from the next lookups on.
        try await system.redis.send("DEL", "bxt:{m}:code:\(code)")
        try await system.waitUntil(timeout: .seconds(1)) { try await system.api("/api/tracking/\(code)").status == 404 }
    }

    @Test func afterARedisRestartNothingIsAnsweredFromMemory() async throws {
        let system = try await SystemTestCase.start()
        defer { Task { await system.finish() } }
        let code = try await system.book()
        for _ in 0..<3 { #expect(try await system.api("/api/tracking/\(code)").status == 200) }
        // The test server keeps nothing on disk: after the restart the code is unknown to Redis,
        // and the API must say so rather than answer from its copy.
        system.server.kill()
        try system.server.start()
        try await system.waitUntil { try await system.api("/api/tracking/\(code)").status == 404 }
        for _ in 0..<5 { #expect(try await system.api("/api/tracking/\(code)").status == 404) }
    }

    @Test func lookupsAreThrottledPerClient() async throws {
        let system = try await SystemTestCase.start(["BXT_API_LOOKUPS_PER_MINUTE_PER_IP": "5"])
        defer { Task { await system.finish() } }
        var statuses: [Int] = []
        for _ in 0..<8 { statuses.append(try await system.api("/api/tracking/abcdefgh").status) }
        #expect(statuses.prefix(5).allSatisfy { $0 == 404 })
        #expect(statuses.suffix(3).allSatisfy { $0 == 429 })
        let limited = try await system.api("/api/tracking/abcdefgh")
        #expect(limited.json["code"] as? String == "rate_limited" && Int(limited.headers.first(name: "retry-after") ?? "") ?? 0 >= 1)
    }

    @Test func pastItsTTLACopyIsServedAndRefreshedOnceInTheBackground() async throws {
        // A Booxi timeout well past the 2 s latency below: on a loaded machine the one refresh must
        // not time out and be fetched again (the fetch's lease is the request timeout).
        let system = try await SystemTestCase.start(["BXT_API_CACHE_TTL_SECONDS": "1", "BXT_BOOXI_REQUEST_TIMEOUT_MS": "10000"])
        defer { Task { await system.finish() } }
        let code = try await system.book()
        try await Task.sleep(for: .milliseconds(1_100))  // the cached copy is now older than the TTL
        // No fetch of the booking still queued or in flight before the calls are counted: the
        // webhook's prefetch, queued before the first lookup fetched the booking itself, is still
        // made, late on a loaded machine.
        let record = "bxt:{m}:booking:\(try await system.bookingID(of: code))"
        let fetchQueues = BookingFetches.classes.map { MappingKeys().fetches($0) }
        try await system.waitUntil(timeout: .seconds(15)) {
            var queued = 0
            for queue in fetchQueues { queued += try await system.redis.send("ZCARD", queue).int ?? 0 }
            let fetchingUntil = try await system.redis.send("HGET", record, "fetchingUntil").string.flatMap(Int64.init) ?? 0
            return queued == 0 && fetchingUntil <= Int64(Date().timeIntervalSince1970 * 1000)
        }
        _ = try await system.simulator(.DELETE, "calls")
        _ = try await system.simulator(.PUT, "faults", #"{"latencyMs":2000}"#)
        let fetchedBefore = try await system.redis.send("HGET", record, "fetchedAt").string
        let replies = try await withThrowingTaskGroup(of: SystemTestCase.Reply.self) { group in
            for _ in 0..<40 { group.addTask { try await system.api("/api/tracking/\(code)") } }
            return try await group.reduce(into: [SystemTestCase.Reply]()) { $0.append($1) }
        }
        // Nobody waited for Booxi (2 s a call now): every answer came while the refresh was still
        // out (its copy not stored yet), and the copy is not called stale: Booxi is fine.
        #expect(try await system.redis.send("HGET", record, "fetchedAt").string == fetchedBefore)
        #expect(replies.allSatisfy { $0.status == 200 && $0.json["stale"] as? Bool == false })
        // Refreshed once, in the background.
        try await system.waitUntil { try await system.redis.send("HGET", record, "fetchedAt").string != fetchedBefore }
        let calls = try await system.bookingCalls()
        let listed = try await system.simulator(.GET, "calls").body
        #expect(calls == 1, "\(listed)")
    }

    @Test func staleOnlyWhenBooxiFailsAnd503NamesTheCause() async throws {
        let system = try await SystemTestCase.start()
        defer { Task { await system.finish() } }
        // A booking changed by a webhook without details: its copy is out of date, so the lookup
        // fetches it; Booxi fails, and the last copy is served, marked stale.
        let code = try await system.book()
        try await system.redis.send("HDEL", "bxt:{m}:booking:\(try await system.bookingID(of: code))", "fetchedAt")
        _ = try await system.simulator(.PUT, "faults", #"{"errorRate":1,"errorStatus":503}"#)
        let stale = try await system.api("/api/tracking/\(code)")
        #expect(stale.status == 200 && stale.json["stale"] as? Bool == true && stale.json["status"] as? String == "Approved")

        // Nothing cached and Booxi down: 503, saying Booxi answered 503, and one log line with the cause.
        _ = try await system.simulator(.DELETE, "faults")
        let fresh = try await system.book(hour: 15)
        try await system.redis.send("HDEL", "bxt:{m}:booking:\(try await system.bookingID(of: fresh))", CachedCopy.marker, "fetchedAt")
        _ = try await system.simulator(.PUT, "faults", #"{"errorRate":1,"errorStatus":502}"#)
        let down = try await system.api("/api/tracking/\(fresh)")
        #expect(down.status == 503 && down.json["code"] as? String == "booxi_unavailable", "\(down.body)")
        #expect((down.json["error"] as? String ?? "").contains("answered 502"))
        let lines = system.logs.text.split(separator: "\n").filter { $0.contains("answered 503 booxi_unavailable") }
        #expect(lines.count == 1 && lines[0].contains("cause=Booxi: server error 502"), "\(lines)")
        #expect(!system.logs.text.contains(fresh))
        _ = try await system.simulator(.PUT, "faults", #"{"timeoutRate":1,"timeoutMs":5000}"#)
        let unreachable = try await system.api("/api/tracking/\(fresh)")
        #expect(unreachable.status == 503 && (unreachable.json["error"] as? String ?? "").contains("cannot be reached"))
    }
}

func iso(_ date: Date) -> String { date.formatted(.iso8601) }
