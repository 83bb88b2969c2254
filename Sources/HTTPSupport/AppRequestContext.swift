import HTTPTypes
import Hummingbird
import NIOCore
import NIOCore

/// The request context of every role: Hummingbird's core context plus the peer address, which the
/// IP allow list and the per-client rate limits need.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Large enough for any route; the ingress enforces its own, smaller webhook limit.
    public var maxUploadSize: Int { 1 << 20 }
}

extension Router where Context == AppRequestContext {
    /// Every role's router: `HEAD` is answered for every `GET` route, with the same headers and no
    /// body (link previews, uptime checks and some mail clients probe with `HEAD`).
    public static func forRole() -> Router<AppRequestContext> {
        Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    }
}
