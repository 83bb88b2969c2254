import Foundation
import RedisClient

/// A throwaway `redis-server` on a free loopback port with its own temporary directory.
/// Tests start one, may stop, kill or restart it on the same port, and must call ``stop()``.
public final class RedisServer: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    private let extraArguments: [String]
    private var process: Process?
    private let lock = NSLock()

    public init(extraArguments: [String] = []) throws {
        self.port = freeLoopbackPort()
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("bxt-redis-\(UUID().uuidString)")
        self.extraArguments = extraArguments
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    public var url: String { "redis://127.0.0.1:\(port)/0" }

    public func configuration(poolSize: Int = 4) -> RedisConfiguration {
        RedisConfiguration(
            endpoint: .tcp(host: "127.0.0.1", port: port), connectTimeout: .seconds(1), commandTimeout: .seconds(2),
            poolSize: poolSize, blockingPoolSize: 2, poolWaitTimeout: .seconds(2))
    }

    /// Starts (or restarts) the server on the same port and waits until it answers.
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.redisServerPath)
        process.arguments =
            [
                "--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory.path,
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
                // scripts/test.sh kills whatever a crashed test run left behind through these pid files.
                "--pidfile", directory.appendingPathComponent("redis.pid").path,
            ] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        ChildProcesses.track(process.processIdentifier)
        lock.withLock { self.process = process }
        try waitUntil(reachable: true)
    }

    /// Whether the server process is alive (not killed or stopped).
    public var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// Stops the server with SIGKILL (a crash, as far as clients can tell) and waits for it to exit.
    public func kill() {
        let process = lock.withLock { () -> Process? in
            defer { self.process = nil }
            return self.process
        }
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Stops the server and removes its directory.
    public func stop() {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }

    private func waitUntil(reachable: Bool) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if canConnect() == reachable { return }
            usleep(20_000)
        }
        throw RedisServerError.notReady(port)
    }

    private func canConnect() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    static var redisServerPath: String {
        ProcessInfo.processInfo.environment["REDIS_SERVER_BIN"]
            ?? ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first {
                FileManager.default.isExecutableFile(atPath: $0)
            } ?? "redis-server"
    }
}

public enum RedisServerError: Error {
    case notReady(Int)
    case clusterNotFormed(String)
}

/// Every child a test started, killed when the test process exits: tests stop their servers in
/// `defer` blocks that may not get to run before the process ends.
enum ChildProcesses {
    nonisolated(unsafe) private static var pids: Set<Int32> = []
    private static let lock = NSLock()
    private static let registered: Void = {
        atexit {
            ChildProcesses.lock.withLock { for pid in ChildProcesses.pids { kill(pid, SIGKILL) } }
        }
    }()

    static func track(_ pid: Int32) {
        _ = registered
        lock.withLock { _ = pids.insert(pid) }
    }
}
