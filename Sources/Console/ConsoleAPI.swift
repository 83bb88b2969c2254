import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import JobQueue
import Operations
import RedisClient

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
            return json(try await store { try await operations.actions.reveal(deadLetterID: id, who: who.user) })
        }
        api.get("retries") { request, context in
            _ = try await auth.require(request, context)
            return json(try await store { try await operations.retries() })
        }
        api.post("retries/:id/now") { request, context in
            let who = try await auth.require(request, context, changing: true)
            let id = try context.parameters.require("id")
            try await store { try await operations.actions.retryNow(jobID: id, who: who.user) }
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
            let booking: BookingReference =
                if let id = body.booking, !id.isEmpty { .bookingID(id) } else { .code(body.code ?? "") }
            return json(try await store { try await operations.actions.erase(booking, who: who.user) })
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
        let address = auth.clientBucket(request, context)
        let (id, session): (String, ConsoleSessions.Session)
        do {
            (id, session) = try await store { try await auth.login.logIn(user: body.username, password: body.password, address: address) }
        } catch ConsoleError.invalidCredentials {
            context.logger.notice("console login failed", metadata: ["address": "\(address)"])
            throw ConsoleError.invalidCredentials
        }
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
        let filter = selection.filter ?? DeadLetterFilter()
        let counts = try await store {
            action == "replay"
                ? try await operations.actions.replay(ids: selection.ids, filter: filter, who: who.user)
                : try await operations.actions.purge(ids: selection.ids, filter: filter, who: who.user)
        }
        return json([action == "replay" ? "replayed" : "purged": counts.affected, "selected": counts.selected])
    }

    private func decode<T: Decodable>(_ type: T.Type, _ request: Request, _ context: AppRequestContext, expected: String) async throws -> T {
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        guard let value = try? JSONDecoder().decode(T.self, from: Data(buffer: body)) else { throw ConsoleError.invalidBody(expected) }
        return value
    }

    /// Redis failures as the console's 503, and an operator action's refusal as its answer.
    private func store<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as RedisError {
            throw ConsoleError.storeUnavailable(error)
        } catch let error as OperatorActionError {
            throw ConsoleError(error)
        }
    }

    func json(_ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return jsonResponse(.ok, bytes: Array((try? encoder.encode(value)) ?? Data("{}".utf8)))
    }
}
