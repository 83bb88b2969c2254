import Foundation

/// Every fuzz target by the name its corpus folder (`Tests/FuzzCorpus/<name>`), `scripts/fuzz.sh`
/// and the libFuzzer executable (`BXT_FUZZ_TARGET`) use; `FuzzTargetsTests` replays each corpus.
public struct FuzzTarget: Sendable, CustomStringConvertible {
    public let name: String
    /// For libFuzzer's synchronous callback.
    public let run: @Sendable ([UInt8]) -> Void
    /// For tests, which must not block a concurrency thread (the config target waits on a task).
    public let check: @Sendable ([UInt8]) async -> Void

    public var description: String { name }

    init(_ name: String, run: @escaping @Sendable ([UInt8]) -> Void, check: (@Sendable ([UInt8]) async -> Void)? = nil) {
        self.name = name
        self.run = run
        self.check = check ?? { run($0) }
    }

    public static let all: [FuzzTarget] = [
        FuzzTarget("signature", run: SignatureFuzz.run),
        FuzzTarget("webhook", run: WebhookFuzz.run),
        FuzzTarget("tracking-path", run: TrackingPathFuzz.run),
        FuzzTarget("forwarded-for", run: ForwardedForFuzz.run),
        FuzzTarget("config", run: ConfigFuzz.run, check: ConfigFuzz.check),
    ]

    /// The target `BXT_FUZZ_TARGET` names, looked up once.
    public static let fromEnvironment: FuzzTarget? = ProcessInfo.processInfo.environment["BXT_FUZZ_TARGET"].flatMap { name in
        all.first { $0.name == name }
    }
}
