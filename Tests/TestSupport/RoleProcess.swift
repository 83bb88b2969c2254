import AsyncHTTPClient
import Foundation

/// A `booxi-tracking <role>` child process built by `swift build`, with its own environment and
/// a log file, for tests about signals, crashes and real processes.
public final class RoleProcess: @unchecked Sendable {
    public let process = Process()
    public let logFile: URL

    public static var executable: URL {
        let env = ProcessInfo.processInfo.environment
        if let path = env["BXT_EXECUTABLE"] { return URL(fileURLWithPath: path) }
        return projectRoot.appendingPathComponent(".build/debug/booxi-tracking")
    }

    public init(_ arguments: [String], environment: [String: String]) throws {
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("bxt-\(arguments.first ?? "role")-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = Self.executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BXT_") }
        env["BXT_DEFAULTS_FILE"] = projectRoot.appendingPathComponent("config/default.json").path
        env.merge(environment) { _, new in new }
        process.environment = env
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        ChildProcesses.track(process.processIdentifier)
        // scripts/test.sh kills whatever a crashed test run left behind through these pid files.
        try? "\(process.processIdentifier)".write(to: logFile.appendingPathExtension("pid"), atomically: true, encoding: .utf8)
    }

    public var pid: Int32 { process.processIdentifier }

    public func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the process to exit (up to `timeout`) and returns its status, or nil if it did not.
    public func waitForExit(timeout: Duration = .seconds(20)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.isRunning ? nil : process.terminationStatus
    }

    public func stop() {
        signal(SIGKILL)
        process.waitUntilExit()
    }

    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Polls `url` until it answers 200.
    public static func waitUntilHealthy(_ url: String, client: HTTPClient = .shared, timeout: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let response = try? await client.execute(HTTPClientRequest(url: url), timeout: .seconds(1)), response.status == .ok {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RoleProcessError.notHealthy(url)
    }
}

public enum RoleProcessError: Error {
    case notHealthy(String)
}
