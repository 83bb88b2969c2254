import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import JobQueue
import Operations
import RedisClient
import TrackingCore

/// `/console/api/...`: everything the console shows, as JSON, so operators can script it. The
/// queries are ``OperationsStore``'s, the same the admin CLI runs.
struct ConsoleAPI: Sendable {
    let operations: OperationsStore
    let auth: ConsoleAuth

    struct Login: Decodable {
        var username: String
        var password: String
    }

    struct SessionAnswer: Encodable {
        var user: String
        var csrfToken: String
    }

    /// Which dead letters an action applies to: the ids given, or all that match the filter.
    struct Selection: Decodable {
        var ids: [String]?
        var filter: DeadLetterFilter?
    }

    struct EraseRequest: Decodable {
        var code: String?
        var booking: String?
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        let api = router.group("console/api")
        api.post("session") { request, context in try await login(request, context) }
        api.get("session") { request, context in try await session(request, context) }
        api.delete("session") { request, context in
            let who = try await auth.require(request, context, changing: true)
            if let id = who.sessionID { try await store { try await auth.sessions.end(id) } }
            var response = json(["loggedOut": true])
            response.headers[.setCookie] = auth.clearCookie()
            return response
        }
        api.get("queues") { request, context in
            _ = try await auth.require(request, context)
            return json(try await store { try await operations.queue.depths() })
        }
        api.get("stats") { request, context in
            _ = try await auth.require(request, context)
            let minutes = request.uri.queryParameters["range"] == "24h" ? 1440 : 60
            return json(try await store { try await operations.stats.last(minutes) })
        }
        api.get("workers") { request, context in
            _ = try await auth.require(request, context)
            return json(try await store { try await operations.workers() })
        }
        api.get("dead-letters") { request, context in
            _ = try await auth.require(request, context)
            let query = request.uri.queryParameters
            let filter = DeadLetterFilter(
                reason: query["reason"].map(String.init), kind: query["kind"].map(String.init),
                since: query["since"].flatMap { Int64(String($0)) }, until: query["until"].flatMap { Int64(String($0)) })
            let (groups, items) = try await store { try await operations.deadLetters(filter) }
            return json(DeadLetterPage(groups: groups, items: items, total: groups.reduce(0) { $0 + $1.count }))
        }
        api.post("dead-letters/replay") { request, context in try await act(on: request, context, action: "replay") }
        api.post("dead-letters/purge") { request, context in try await act(on: request, context, action: "purge") }
        api.post("dead-letters/:id/reveal") { request, context in
            let who = try await auth.require(request, context, changing: true)
            let id = try context.parameters.require("id")
            guard let item = try await store({ try await operations.revealDeadLetter(id: id) }) else { throw ConsoleError.notFound("dead letter") }
            try await store { try await operations.audit.record(user: who.user, action: "reveal", target: "dead letter \(id)") }
            return json(item)
        }
        api.get("retries") { request, context in
            _ = try await auth.require(request, context)
            return json(try await store { try await operations.retries() })
        }
        api.post("retries/:id/now") { request, context in
            let who = try await auth.require(request, context, changing: true)
            let id = try context.parameters.require("id")
            let moved = try await store { try await operations.queue.retryNow(id: id) }
            guard moved else { throw ConsoleError.notFound("delayed job") }
            try await store { try await operations.audit.record(user: who.user, action: "retry-now", target: "job \(id)") }
            return json(["moved": true])
        }
        api.get("timeline") { request, context in
            _ = try await auth.require(request, context)
            let query = request.uri.queryParameters["q"].map(String.init) ?? ""
            guard let answer = try await store({ try await operations.timeline(for: query) }) else { throw ConsoleError.notFound("booking") }
            return json(answer)
        }
        api.post("erase") { request, context in
            let who = try await auth.require(request, context, changing: true)
            let body = try await decode(EraseRequest.self, request, context, expected: #"{"code": …} or {"booking": …}"#)
            let bookingID: String
            if let booking = body.booking, !booking.isEmpty {
                bookingID = booking
            } else if let text = body.code, let code = TrackingCode(text), let record = try await store({ try await operations.mappings.resolve(code) }) {
                bookingID = record.bookingID
            } else {
                throw ConsoleError.notFound("booking")
            }
            let erasure = try await store { try await operations.erase(bookingID: bookingID) }
            try await store { try await operations.audit.record(user: who.user, action: "erase", target: bookingID, detail: "\(erasure.jobsRemoved) jobs") }
            return json(erasure)
        }
        api.get("audit") { request, context in
            _ = try await auth.require(request, context)
            return json(try await store { try await operations.audit.recent() })
        }
    }

    struct DeadLetterPage: Encodable {
        var groups: [DeadLetterReport.Group]
        var items: [DeadLetterReport.Item]
        var total: Int
    }

    private func login(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await decode(Login.self, request, context, expected: #"{"username": …, "password": …}"#)
        let address = auth.clientAddress(request, context)
        if let wait = try await store({ try await auth.sessions.throttled(user: body.username, address: address) }) {
            throw ConsoleError.loginThrottled(retryAfterSeconds: wait)
        }
        guard try await auth.users.verify(user: body.username, password: body.password) else {
            try await store { try await auth.sessions.recordFailure(user: body.username, address: address) }
            context.logger.notice("console login failed", metadata: ["address": "\(address)"])
            throw ConsoleError.invalidCredentials
        }
        try await store { try await auth.sessions.clearFailures(user: body.username) }
        let (id, session) = try await store { try await auth.sessions.create(user: body.username) }
        var response = json(SessionAnswer(user: session.user, csrfToken: session.csrf))
        response.headers[.setCookie] = auth.setCookie(id, request, context)
        return response
    }

    /// Who is logged in and their CSRF token; a proxy-authenticated user gets a session here.
    private func session(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let who = try await auth.require(request, context)
        if let csrf = who.csrf { return json(SessionAnswer(user: who.user, csrfToken: csrf)) }
        let (id, session) = try await store { try await auth.sessions.create(user: who.user) }
        var response = json(SessionAnswer(user: session.user, csrfToken: session.csrf))
        response.headers[.setCookie] = auth.setCookie(id, request, context)
        return response
    }

    /// Replay or purge the selected dead letters (by id, or all matching a filter); audited.
    private func act(on request: Request, _ context: AppRequestContext, action: String) async throws -> Response {
        let who = try await auth.require(request, context, changing: true)
        let selection = try await decode(Selection.self, request, context, expected: #"{"ids": […]} or {"filter": {…}}"#)
        guard selection.ids != nil || selection.filter != nil else { throw ConsoleError.invalidBody(#"{"ids": […]} or {"filter": {…}}"#) }
        let ids = try await store { try await operations.deadLetterIDs(selection.ids, filter: selection.filter ?? DeadLetterFilter()) }
        let count = try await store {
            action == "replay" ? try await operations.queue.replayDeadLetters(ids: ids) : try await operations.queue.purgeDeadLetters(ids: ids)
        }
        try await store {
            try await operations.audit.record(user: who.user, action: action, target: "dead letters", detail: "\(count) of \(ids.count) selected")
        }
        return json([action == "replay" ? "replayed" : "purged": count, "selected": ids.count])
    }

    private func decode<T: Decodable>(_ type: T.Type, _ request: Request, _ context: AppRequestContext, expected: String) async throws -> T {
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        guard let value = try? JSONDecoder().decode(T.self, from: Data(buffer: body)) else { throw ConsoleError.invalidBody(expected) }
        return value
    }

    /// Redis failures as the console's 503.
    private func store<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as RedisError { throw ConsoleError.storeUnavailable(error) }
    }

    func json(_ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return jsonResponse(.ok, bytes: Array((try? encoder.encode(value)) ?? Data("{}".utf8)))
    }
}
