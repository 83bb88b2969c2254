import HTTPSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("JSON errors: every failure leaves in one form")
struct JSONErrorMiddlewareTests {
    enum Teapot: HTTPMappedError {
        case tooHot(degrees: Int)

        var apiError: APIError {
            switch self {
            case .tooHot(let degrees): APIError(.init(code: 418), code: "too_hot", "the tea is \(degrees) degrees")
            }
        }

        static var everyCase: [Teapot] { [.tooHot(degrees: 90)] }
    }

    struct Unknown: Error {}

    @Test func domainErrorsFrameworkErrorsAndBugs() async throws {
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.get("tea") { _, _ -> String in throw Teapot.tooHot(degrees: 90) }
        router.get("bug") { _, _ -> String in throw Unknown() }
        let app = Application(router: router)
        try await app.test(.router) { client in
            let tea = try await client.execute(uri: "/tea", method: .get)
            #expect(tea.status.code == 418 && tea.headers[.contentType] == "application/json; charset=utf-8")
            #expect(String(buffer: tea.body) == #"{"code":"too_hot","error":"the tea is 90 degrees"}"#)
            let missing = try await client.execute(uri: "/nowhere", method: .get)
            #expect(missing.status == .notFound && String(buffer: missing.body).contains(#""code":"not_found""#))
            let bug = try await client.execute(uri: "/bug", method: .get)
            #expect(bug.status == .internalServerError && String(buffer: bug.body) == #"{"code":"internal","error":"internal error"}"#)
        }
    }
}
