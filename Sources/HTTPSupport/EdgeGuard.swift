import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Synchronization
import TrackingConfig

/// The connections of one public listener: the caps, and the refusals counted and logged once
/// per client a minute (a flood of refused connections writes a few lines, not one each). A
/// client is its ``ClientBucket`` (an IPv6 client is its /64), and both maps stay bounded: the
/// open connections' by `maxConnections`, the log limiter's by ``ClientTable``'s cap.
public final class EdgeGuard: Sendable {
    public enum Refusal: String, Sendable, CaseIterable {
        case headerTimeout = "header_timeout", bodyTimeout = "body_timeout", idleTimeout = "idle_timeout"
        case listenerFull = "listener_full", addressFull = "address_full", headerTooLarge = "header_too_large"
    }

    let limits: EdgeSettings
    let listener: String
    /// Its trusted proxies are exempt from the per-address cap.
    let clientAddress: ClientAddressResolver
    let logger: Logger
    private let counters: [Refusal: Counter]
    private let open = Gauge(label: "booxi_tracking_http_open_connections")
    private let addresses: Gauge
    private struct State {
        var total = 0
        /// Only clients with an open connection: at most `maxConnections` entries.
        var perAddress: [ClientBucket: Int] = [:]
        var lastLogged: ClientTable<Refusal>
    }
    private let state: Mutex<State>

    /// Clients whose refusals were logged within the minute, at most.
    static let loggedClientsCapacity = 10_000

    public init(limits: EdgeSettings, listener: String, clientAddress: ClientAddressResolver, logger: Logger) {
        self.limits = limits
        self.listener = listener
        self.clientAddress = clientAddress
        self.logger = logger
        addresses = .clientTableEntries("\(listener)_connections")
        state = Mutex(State(lastLogged: ClientTable(capacity: Self.loggedClientsCapacity, idle: .seconds(60), table: "\(listener)_refusal_log")))
        counters = Dictionary(
            uniqueKeysWithValues: Refusal.allCases.map {
                ($0, Counter(label: "booxi_tracking_http_refused_connections_total", dimensions: [("listener", listener), ("reason", $0.rawValue)]))
            })
    }

    /// The handler for one connection, as `HTTP1Channel.Configuration.additionalChannelHandlers` wants it.
    public func handler() -> any RemovableChannelHandler {
        EdgeGuardHandler(guard: self)
    }

    /// The connection may stay: counted in. Or it may not: the reason.
    func admit(_ address: String?) -> Refusal? {
        let counted = counted(address)
        let (refusal, total, clients) = state.withLock { state -> (Refusal?, Int, Int) in
            if state.total >= limits.maxConnections { return (.listenerFull, state.total, state.perAddress.count) }
            if let counted, state.perAddress[counted, default: 0] >= limits.maxConnectionsPerAddress {
                return (.addressFull, state.total, state.perAddress.count)
            }
            state.total += 1
            if let counted { state.perAddress[counted, default: 0] += 1 }
            return (nil, state.total, state.perAddress.count)
        }
        if refusal == nil {
            open.record(total)
            addresses.record(clients)
        }
        return refusal
    }

    func release(_ address: String?) {
        let counted = counted(address)
        let (total, clients) = state.withLock { state -> (Int, Int) in
            state.total -= 1
            if let counted {
                let left = state.perAddress[counted, default: 1] - 1
                state.perAddress[counted] = left > 0 ? left : nil
            }
            return (state.total, state.perAddress.count)
        }
        open.record(total)
        addresses.record(clients)
    }

    /// The bucket the per-address cap counts a connection under (none for a trusted proxy).
    private func counted(_ address: String?) -> ClientBucket? {
        address.flatMap { clientAddress.isTrusted($0) ? nil : ClientBucket(address: $0) }
    }

    /// Clients with an open connection (tests).
    var countedClients: Int { state.withLock { $0.perAddress.count } }

    /// Clients whose refusal was logged this minute (tests).
    var loggedClients: Int { state.withLock { $0.lastLogged.count } }

    func refused(_ refusal: Refusal, address: String?) {
        counters[refusal]?.increment()
        let client = ClientBucket(address: address)
        let now = ContinuousClock.now
        let log = state.withLock { state -> Bool in
            if let last = state.lastLogged[client], now - last.touched < .seconds(60) { return false }
            state.lastLogged.set(refusal, for: client, now: now)
            return true
        }
        if log {
            logger.notice(
                "connection refused (further ones from this client this minute are counted, not logged)",
                metadata: ["listener": "\(listener)", "reason": "\(refusal.rawValue)", "client": "\(client)"])
        }
    }
}

/// One connection's deadlines: its request head within `headerTimeout` (`idleTimeout` after a
/// response), its body within `bodyTimeout`, checked a quarter of the shortest timeout apart (so a
/// deadline holds to within that); a head over the decoder's limit answered 431.
final class EdgeGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let guardian: EdgeGuard
    private var address: String?
    private var started = false
    private var admitted = false
    /// What the connection must do by when; nil while a response is being prepared. Moving it is a
    /// plain assignment: one repeating check per connection reads it (a timer per request cost the
    /// ingress measurable throughput).
    private var deadline: (at: NIODeadline, refusal: EdgeGuard.Refusal)?
    private var check: RepeatedTask?

    init(guard guardian: EdgeGuard) {
        self.guardian = guardian
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    /// Once per connection, whichever of `handlerAdded` and `channelActive` sees it active first.
    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        address = context.channel.remoteAddress?.ipAddress
        if let refusal = guardian.admit(address) {
            guardian.refused(refusal, address: address)
            context.close(promise: nil)
            return
        }
        admitted = true
        expect(within: guardian.limits.headerTimeout, .headerTimeout)
        let limits = guardian.limits
        let tick = max(.milliseconds(10), min(limits.headerTimeout, limits.bodyTimeout, limits.idleTimeout) / 4)
        check = context.eventLoop.scheduleRepeatedTask(initialDelay: Self.amount(tick), delay: Self.amount(tick)) { [weak self] task in
            guard let self else { return task.cancel() }
            guard let deadline = self.deadline, deadline.at <= .now() else { return }
            task.cancel()
            self.guardian.refused(deadline.refusal, address: self.address)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        if admitted {
            admitted = false
            guardian.release(address)
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        if admitted {
            admitted = false
            guardian.release(address)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: expect(within: guardian.limits.bodyTimeout, .bodyTimeout)
        case .body: break
        case .end: deadline = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // A response done: the next request's head has the keep-alive idle time to arrive in full.
        if case .end = unwrapOutboundIn(data) { expect(within: guardian.limits.idleTimeout, .idleTimeout) }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The decoder's limit on the request head: 431 in our JSON shape, then close.
        if let parserError = error as? HTTPParserError, parserError == .headerOverflow {
            guardian.refused(.headerTooLarge, address: address)
            let error = EdgeError.headersTooLarge(limit: guardian.limits.maxHeaderBytes).apiError
            let body = error.body
            var fields = error.responseHeaders
            fields[.contentLength] = String(body.readableBytes)
            fields[.connection] = "close"
            context.write(
                wrapOutboundOut(.head(HTTPResponse(status: .init(code: 431, reasonPhrase: "Request Header Fields Too Large"), headerFields: fields))),
                promise: nil)
            context.write(wrapOutboundOut(.body(body)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
            return
        }
        context.fireErrorCaught(error)
    }

    private func expect(within timeout: Duration, _ refusal: EdgeGuard.Refusal) {
        deadline = (.now() + Self.amount(timeout), refusal)
    }

    private static func amount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 for a public listener: the edge guard on every connection and the decoder's
    /// header limit at `maxHeaderBytes`.
    public static func publicHTTP1(_ edge: EdgeGuard) -> HTTPServerBuilder {
        let limit = edge.limits.maxHeaderBytes
        return .http1(
            configuration: .init(
                additionalChannelHandlers: [edge.handler()],
                httpDecoderConfiguration: .init(maxHeaderFieldSize: limit, maxHeaderListSize: limit)))
    }
}

extension ApplicationConfiguration {
    /// A public listener's address with a deep accept queue: a flood of connections that the edge
    /// guard refuses must not crowd out the SYNs of the clients it serves (a queue of 256 did,
    /// under 3,000 refused connections a second). The kernel caps it at `net.core.somaxconn`.
    public static func publicListener(host: String, port: Int) -> ApplicationConfiguration {
        .init(address: .hostname(host, port: port), serverName: nil, backlog: 4096)
    }
}
