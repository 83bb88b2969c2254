import CHiredis
import Glibc

/// One hiredis connection. Every call blocks the calling thread until Redis answers or the
/// command timeout passes, so it is only ever called from the client's dedicated thread pools
/// (see ``RedisClient``), never from a NIO event loop or Swift's cooperative pool.
///
/// A `redisContext` is not thread-safe: a connection has exactly one owner at a time, the pool
/// hands it out as a lease, which is why the class is `@unchecked Sendable`.
final class RedisConnection: @unchecked Sendable {
    private let context: UnsafeMutablePointer<redisContext>
    let configuration: RedisConfiguration
    /// Where this connection goes (with Sentinel: the primary it was opened to).
    let address: RedisConfiguration.Endpoint
    /// The address for errors and logs: `host:port/db`, `tls:host:port/db` or `unix:path/db`.
    let displayAddress: String
    /// With Sentinel: which discovery of the primary this connection belongs to (``RedisConnector``).
    var generation = 0
    /// Set once an I/O or protocol error happened; hiredis cannot use the context after that.
    private(set) var isBroken = false
    var lastUsed: ContinuousClock.Instant = .now

    /// Connects to `address` (the configured endpoint, or the primary Sentinel named), over TLS
    /// when the configuration has TLS settings (``TLSTunnel``), then authenticates and selects.
    init(configuration: RedisConfiguration, address: RedisConfiguration.Endpoint) throws(RedisError) {
        self.configuration = configuration
        self.address = address
        let displayAddress = address.display(tls: configuration.tls != nil) + "/\(configuration.database)"
        self.displayAddress = displayAddress
        let connectTimeout = configuration.connectTimeout.timeval
        let made: UnsafeMutablePointer<redisContext>?
        switch (address, configuration.tls) {
        case (.tcp(let host, let port), let tls?):
            let descriptor = try TLSTunnel.open(host: host, port: port, settings: tls, timeout: configuration.connectTimeout)
            made = redisConnectFd(descriptor)
            if made == nil { close(descriptor) }
        case (.tcp(let host, let port), nil):
            made = redisConnectWithTimeout(host, Int32(port), connectTimeout)
        case (.unixSocket(let path), _):
            made = redisConnectUnixWithTimeout(path, connectTimeout)
        }
        guard let made else {
            throw .connection("cannot allocate a connection to \(displayAddress)")
        }
        if made.pointee.err != 0 {
            let error = Self.error(of: made, address: displayAddress)
            redisFree(made)
            throw error
        }
        // From here on `deinit` owns the context, also when the handshake below throws.
        context = made
        redisSetTimeout(made, configuration.commandTimeout.timeval)
        if case .tcp = address, configuration.tls == nil {
            redisEnableKeepAlive(made)
        }
        try handshake()
    }

    deinit {
        redisFree(context)
    }

    private func handshake() throws(RedisError) {
        if let password = configuration.password {
            var auth: [any RedisArgumentConvertible] = [password.revealed]
            if let username = configuration.username { auth.insert(username, at: 0) }
            if case .error(let message) = try send(RedisCommand("AUTH", auth)) {
                // The server's text never contains the password; prefix it so operators see the step.
                throw .server("AUTH failed: \(message)")
            }
        }
        if configuration.database != 0,
            case .error(let message) = try send(RedisCommand("SELECT", configuration.database))
        {
            throw .server("SELECT \(configuration.database) failed: \(message)")
        }
    }

    /// Sends one command and waits for its reply. Error replies are returned, not thrown:
    /// only transport and protocol failures throw.
    func send(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        try send(pipeline: CollectionOfOne(command))[0]
    }

    /// Writes all commands, then reads all replies: one round trip for the whole batch.
    func send(pipeline commands: some Collection<RedisCommand>) throws(RedisError) -> [RedisReply] {
        try ensureUsable()
        guard Self.append(commands, to: context) else { throw markBroken() }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in 0..<commands.count {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw markBroken() }
            replies.append(Self.take(raw))
        }
        lastUsed = .now
        return replies
    }

    /// Reads what the server pushes (pub/sub messages) and hands each reply to `onReply`, until the
    /// connection fails or is interrupted (``interrupt()``), which throws. A link that goes quiet is
    /// probed: after `heartbeat` without a reply a `PING` goes out, and if another `heartbeat`
    /// passes without any reply the connection counts as dead (a half-open TCP link never fails a
    /// read on its own).
    func listen(heartbeat: Duration, _ onReply: (RedisReply) -> Void) throws(RedisError) -> Never {
        try ensureUsable()
        let pollTimeout = Int32(clamping: heartbeat.milliseconds)
        var awaitingPong = false
        while true {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReplyFromReader(context, &raw) == REDIS_OK else { throw markBroken() }
            if let raw {
                awaitingPong = false
                onReply(Self.take(raw))
                continue
            }
            var ready = pollfd(fd: context.pointee.fd, events: Int16(POLLIN), revents: 0)
            switch poll(&ready, 1, pollTimeout) {
            case 0 where awaitingPong:
                isBroken = true
                throw .timeout("\(displayAddress): no reply to PING within \(heartbeat)")
            case 0:
                try ping()
                awaitingPong = true
            case ..<0 where errno == EINTR:
                continue
            case ..<0:
                isBroken = true
                throw .connection("\(displayAddress): poll failed (errno \(errno))")
            default:
                guard redisBufferRead(context) == REDIS_OK else { throw markBroken() }
            }
        }
    }

    /// Writes a `PING` without waiting for its reply (``listen(heartbeat:_:)`` reads it).
    private func ping() throws(RedisError) {
        guard Self.append(CollectionOfOne(RedisCommand("PING")), to: context) else { throw markBroken() }
        var done: Int32 = 0
        while done == 0 {
            guard redisBufferWrite(context, &done) == REDIS_OK else { throw markBroken() }
        }
    }

    /// Changes the socket timeout, e.g. for a blocking command that waits longer than usual.
    func setCommandTimeout(_ timeout: Duration) {
        redisSetTimeout(context, timeout.timeval)
    }

    /// Unblocks a thread waiting inside hiredis (task cancellation of a blocking command): the
    /// pending read fails at once and the connection is dropped.
    func interrupt() {
        shutdown(context.pointee.fd, Int32(SHUT_RDWR))
    }

    /// Marks the connection unusable, e.g. after ``interrupt()``: the pool closes it on release.
    func discard() {
        isBroken = true
    }

    private func ensureUsable() throws(RedisError) {
        if isBroken { throw .connection("connection to \(displayAddress) is broken") }
    }

    private func markBroken() -> RedisError {
        isBroken = true
        return Self.error(of: context, address: displayAddress)
    }

    private static func error(of context: UnsafeMutablePointer<redisContext>, address: String) -> RedisError {
        let message = withUnsafeBytes(of: context.pointee.errstr) { buffer in
            String(decoding: buffer.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        let text = "\(address): \(message)"
        switch context.pointee.err {
        case REDIS_ERR_PROTOCOL: return .protocolError(text)
        case REDIS_ERR_IO where message.contains("temporarily unavailable") || message.contains("timed out"):
            return .timeout(text)
        default: return .connection(text)
        }
    }

    /// A reply hiredis handed over, as our value; hiredis' copy is freed.
    private static func take(_ raw: UnsafeMutableRawPointer) -> RedisReply {
        defer { freeReplyObject(raw) }
        return decode(raw.assumingMemoryBound(to: redisReply.self))
    }

    private static func decode(_ reply: UnsafePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        switch value.type {
        case REDIS_REPLY_STATUS: return .status(String(cString: value.str))
        case REDIS_REPLY_ERROR: return .error(String(cString: value.str))
        case REDIS_REPLY_INTEGER: return .integer(Int(value.integer))
        case REDIS_REPLY_STRING:
            return .bulkString(value.len == 0 ? [] : Array(UnsafeRawBufferPointer(start: value.str, count: value.len)))
        case REDIS_REPLY_ARRAY:
            return .array((0..<value.elements).map { decode(value.element[$0]!) })
        default:
            return .null
        }
    }

    private static let empty: StaticString = ""

    /// Hands every command to hiredis in argv form (`redisAppendCommandArgv`, binary-safe). The
    /// pointer and length arrays are laid out once for the whole batch, on the stack when small.
    private static func append(_ commands: some Collection<RedisCommand>, to context: UnsafeMutablePointer<redisContext>) -> Bool {
        let widest = commands.reduce(0) { max($0, $1.count) }
        return withUnsafeTemporaryAllocation(of: UnsafePointer<CChar>?.self, capacity: widest) { argv in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: widest) { lengths in
                for command in commands {
                    let status = command.bytes.withUnsafeBufferPointer { bytes -> Int32 in
                        // Only a command of empty arguments has no buffer; any valid pointer does then.
                        let base = UnsafeRawPointer(bytes.baseAddress ?? Self.empty.utf8Start).assumingMemoryBound(to: CChar.self)
                        var start = 0
                        for (index, end) in command.ends.enumerated() {
                            argv[index] = base + start
                            lengths[index] = end - start
                            start = end
                        }
                        return redisAppendCommandArgv(context, Int32(command.count), argv.baseAddress!, lengths.baseAddress!)
                    }
                    guard status == REDIS_OK else { return false }
                }
                return true
            }
        }
    }
}
