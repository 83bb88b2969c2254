import Logging

/// How a long-running loop waits out Redis being unreachable: a warning on the first failure and
/// on every 30th after it (one line per outage, not one per attempt), and a pause that grows by
/// 100 ms a failure to a second.
public struct OutagePause: Sendable {
    public private(set) var failures = 0

    public init() {}

    public mutating func failed(
        _ error: any Error, _ message: @autoclosure () -> Logger.Message, logger: Logger, metadata: Logger.Metadata = [:]
    ) async {
        failures += 1
        if failures == 1 || failures % 30 == 0 {
            logger.warning(message(), metadata: metadata.merging(["error": "\(error)", "failures": "\(failures)"]) { $1 })
        }
        try? await Task.sleep(for: .milliseconds(min(100 * failures, 1_000)))
    }

    public mutating func succeeded() {
        failures = 0
    }
}
