import JobQueue

/// Processes a batch of one job kind and says how each attempt ended. Handlers never throw for a
/// single bad job (that is an outcome); they throw only when the batch could not be processed at
/// all (Redis unreachable), and the lane tries the batch again.
public protocol JobHandler: Sendable {
    /// Its name: the `kind` label of the worker's job metrics (`command`, `webhook`).
    var name: String { get }
    func handle(_ jobs: [FetchedJob]) async throws -> [JobOutcome]
}
