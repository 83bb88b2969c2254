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
