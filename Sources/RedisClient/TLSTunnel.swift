import Foundation
import Glibc
import NIOCore
import NIOTLS
import NIOPosix
import NIOSSL
import Synchronization

/// TLS for our hiredis connections. Debian's hiredis 0.14 has no TLS, so swift-nio-ssl speaks it:
/// a NIO channel holds the TLS session with the server, and is glued to one end of a Unix socket
/// pair whose other end hiredis gets with `redisConnectFd`. Everything hiredis does (blocking
/// I/O on the client's threads, socket timeouts, `shutdown` to interrupt a blocking command, the
/// reply reader) works on that socket unchanged; the bytes cross one more hop on a NIO event loop,
/// only for TLS. Plain TCP and Unix sockets keep hiredis' own sockets (measured: docs/redis.md).
///
/// Before hiredis sees the socket the session is proven: the handshake completes and the server
/// answers a `PING` through it (any answer, `-NOAUTH` included), so a refused client certificate
/// is reported as such and not as a closed connection later.
enum TLSTunnel {
    /// Opens the TLS session to `host:port` and returns the descriptor hiredis gets. Blocking: runs
    /// on the client's threads, never on an event loop.
    static func open(host: String, port: Int, settings: RedisConfiguration.TLS, timeout: Duration) throws(RedisError) -> CInt {
        let address = "tls:\(host):\(port)"
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let serverName = settings.serverName ?? (isIPAddress(host) ? nil : host)
        let session: Channel
        do {
            session = try connect(loop: loop, host: host, port: port, serverName: serverName, settings: settings, timeout: timeout)
        } catch {
            throw .connection(
                "\(address): TLS: \(diagnosis(of: error, host: host, port: port, serverName: serverName, settings: settings, timeout: timeout))")
        }
        var ends: [CInt] = [-1, -1]
        guard socketpair(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            session.close(promise: nil)
            throw .connection("\(address): TLS: socketpair failed (errno \(errno))")
        }
        do {
            let local = try ClientBootstrap(group: loop).withConnectedSocket(ends[1]).wait()
            try loop.submit {
                let (toServer, toHiredis) = GlueHandler.matchedPair()
                try session.pipeline.syncOperations.addHandler(toServer)
                try local.pipeline.syncOperations.addHandler(toHiredis)
            }.wait()
        } catch {
            session.close(promise: nil)
            close(ends[0])
            throw .connection("\(address): TLS: cannot bridge the session to hiredis: \(error)")
        }
        return ends[0]
    }

    /// Connects, completes the handshake, and checks that the server answers through the session.
    private static func connect(
        loop: any EventLoop, host: String, port: Int, serverName: String?, settings: RedisConfiguration.TLS, timeout: Duration
    ) throws -> Channel {
        let context = try Contexts.shared.context(for: settings)
        let proven = loop.makePromise(of: Void.self)
        let channel = try ClientBootstrap(group: loop)
            .connectTimeout(.milliseconds(timeout.milliseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: serverName)
                    try channel.pipeline.syncOperations.addHandlers(tls, SessionProbe(proven: proven))
                }
            }
            .connect(host: host, port: port).wait()
        let deadline = loop.scheduleTask(in: .milliseconds(timeout.milliseconds)) { proven.fail(SessionProbe.TimedOut()) }
        defer { deadline.cancel() }
        do {
            try proven.futureResult.wait()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        return channel
    }

    /// The cause of a failed session, in words an operator can act on. A failed verification is
    /// looked into with two more handshakes: without the host name check (then the name was the
    /// problem), and without any check, to read the certificate's dates.
    private static func diagnosis(
        of error: any Error, host: String, port: Int, serverName: String?, settings: RedisConfiguration.TLS, timeout: Duration
    ) -> String {
        let text = "\(error)"
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        func retried(_ verify: RedisConfiguration.TLS.Verification) -> (any Error)? {
            var relaxed = settings
            relaxed.verify = verify
            do {
                try connect(loop: loop, host: host, port: port, serverName: serverName, settings: relaxed, timeout: timeout).close(promise: nil)
                return nil
            } catch { return error }
        }
        if error is SessionProbe.TimedOut {
            return "no TLS answer within \(timeout) (is this a plain-TCP port behind a rediss:// URL?)"
        }
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "the server's certificate does not name '\(serverName ?? host)' (set redis.tls.serverName to a name it carries)"
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            if settings.verify == .full, serverName != nil, retried(.chain) == nil {
                return "the server's certificate does not name '\(serverName ?? host)' (set redis.tls.serverName to a name it carries)"
            }
            if let dates = leafDates(loop: loop, host: host, port: port, serverName: serverName, settings: settings, timeout: timeout) {
                let now = time(nil)
                if dates.notAfter < now { return "the server's certificate expired on \(format(dates.notAfter))" }
                if dates.notBefore > now { return "the server's certificate is not valid before \(format(dates.notBefore))" }
            }
            return "the server's certificate is not signed by a trusted CA (redis.tls.caFile: \(settings.caFile ?? "the system's trust store"))"
        }
        if text.contains("CERTIFICATE_REQUIRED") || text.contains("BAD_CERTIFICATE") || text.contains("HANDSHAKE_FAILURE")
            || (error as? SessionProbe.Closed) != nil
        {
            return settings.certFile == nil
                ? "the server refused the session: it requires a client certificate (redis.tls.certFile and redis.tls.keyFile)"
                : "the server refused our client certificate \(settings.certFile!) (not signed by a CA it trusts?)"
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") || text.contains("HTTP_REQUEST") {
            return "the server does not speak TLS (is this a plain-TCP port behind a rediss:// URL?)"
        }
        if let contextError = error as? Contexts.FileError { return contextError.description }
        return text
    }

    private static func leafDates(
        loop: any EventLoop, host: String, port: Int, serverName: String?, settings: RedisConfiguration.TLS, timeout: Duration
    ) -> (notBefore: time_t, notAfter: time_t)? {
        var open = settings
        open.verify = .none
        guard let channel = try? connect(loop: loop, host: host, port: port, serverName: serverName, settings: open, timeout: timeout) else {
            return nil
        }
        defer { channel.close(promise: nil) }
        guard let certificate = try? channel.nioSSL_peerCertificate().wait() else { return nil }
        return (certificate.notValidBefore, certificate.notValidAfter)
    }

    private static func format(_ time: time_t) -> String {
        Date(timeIntervalSince1970: TimeInterval(time)).formatted(.iso8601)
    }

    static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }

    /// One `NIOSSLContext` per set of settings (it reads the CA, certificate and key files).
    final class Contexts: Sendable {
        static let shared = Contexts()
        private let contexts = Mutex<[RedisConfiguration.TLS: NIOSSLContext]>([:])

        struct FileError: Error, CustomStringConvertible {
            let description: String
        }

        func context(for settings: RedisConfiguration.TLS) throws -> NIOSSLContext {
            if let context = contexts.withLock({ $0[settings] }) { return context }
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification =
                switch settings.verify {
                case .full: .fullVerification
                case .chain: .noHostnameVerification
                case .none: .none
                }
            if let caFile = settings.caFile {
                guard FileManager.default.isReadableFile(atPath: caFile) else {
                    throw FileError(description: "cannot read redis.tls.caFile '\(caFile)'")
                }
                configuration.trustRoots = .file(caFile)
            }
            if let certFile = settings.certFile, let keyFile = settings.keyFile {
                do {
                    configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
                } catch { throw FileError(description: "cannot read redis.tls.certFile '\(certFile)': \(error)") }
                do {
                    configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
                } catch { throw FileError(description: "cannot read redis.tls.keyFile '\(keyFile)': \(error)") }
            }
            let context = try NIOSSLContext(configuration: configuration)
            contexts.withLock { $0[settings] = context }
            return context
        }
    }
}

/// Proves a fresh TLS session: after the handshake it sends an inline `PING` and waits for the
/// first line of an answer (`+PONG`, or `-NOAUTH …` before `AUTH`: either means the server
/// accepted the session), then steps aside.
private final class SessionProbe: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct TimedOut: Error {}
    struct Closed: Error {}

    private let proven: EventLoopPromise<Void>
    private var received = ByteBuffer()

    init(proven: EventLoopPromise<Void>) {
        self.proven = proven
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "PING\r\n")), promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        received.writeBuffer(&bytes)
        guard received.readableBytesView.contains(UInt8(ascii: "\n")) else { return }
        proven.succeed(())
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        proven.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        proven.fail(Closed())
        context.fireChannelInactive()
    }
}

/// Passes bytes between two channels on one event loop (the TLS session and hiredis' socket),
/// reading from one only while the other can take more, and closing both when either ends.
/// After swift-nio-examples' `GlueHandler`.
private final class GlueHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    private var isWritable: Bool { context?.channel.isWritable ?? false }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.context?.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.context?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.context?.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            partner?.context?.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
        partner?.context?.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.readIfPending() }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if partner?.isWritable ?? false {
            context.read()
        } else {
            pendingRead = true
        }
    }

    private func readIfPending() {
        guard pendingRead, let context else { return }
        pendingRead = false
        context.read()
    }
}
