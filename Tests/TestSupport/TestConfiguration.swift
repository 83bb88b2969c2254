import Foundation
import TrackingConfig

/// The project's root directory (holding `config/`, `Sources/`, `.build/`).
public let projectRoot: URL = {
    if let root = ProcessInfo.processInfo.environment["BXT_PROJECT_ROOT"] { return URL(fileURLWithPath: root) }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}()

/// The configuration a role would load, with the repository's defaults, `redis` as Redis, every
/// port 0 (chosen by the OS), and `environment` on top.
public func testConfiguration(redis: RedisServer?, _ environment: [String: String] = [:]) async throws -> AppConfiguration {
    var base: [String: String] = [
        "BXT_DEFAULTS_FILE": projectRoot.appendingPathComponent("config/default.json").path,
        "BXT_INGRESS_HOST": "127.0.0.1", "BXT_INGRESS_PORT": "0",
        "BXT_API_HOST": "127.0.0.1", "BXT_API_PORT": "0",
        "BXT_WORKER_HOST": "127.0.0.1", "BXT_WORKER_PORT": "0",
        "BXT_LOG_LEVEL": "warning",
    ]
    if let redis { base["BXT_REDIS_URL"] = redis.url }
    return try await AppConfiguration.load(environment: base.merging(environment) { _, new in new })
}

/// A sample Booxi payload from `Tests/Fixtures` (copies of the design's shared fixtures).
public func fixture(_ name: String) throws -> [UInt8] {
    let local = projectRoot.appendingPathComponent("Tests/Fixtures/\(name)")
    return Array(try Data(contentsOf: local))
}

/// What the hand-written JSON (`JSONText`) must equal byte for byte: `JSONEncoder` with sorted keys
/// and unescaped slashes.
public func referenceJSON(_ value: some Encodable) throws -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return Array(try encoder.encode(value))
}

/// The webhook token every test harness configures (`BXT_WEBHOOK_TOKENS`) and sends
/// (`x-webhook-token`): an ingress refuses to start without webhook authentication, and secrets
/// shorter than 16 bytes are refused. The Python harnesses use the same value
/// (`Tests/local_processes.py`, `WEBHOOK_TOKEN`).
public let testWebhookToken = "test-webhook-token-0123456789abcdef"
