import JobQueue

/// Processes a batch of one job kind and says how each attempt ended. Handlers never throw for a
/// single bad job (that is an outcome); they throw only when the batch could not be processed at
/// all (Redis unreachable), and the lane tries the batch again.
public protocol JobHandler: Sendable {
    /// The metric label of the jobs this handler serves.
    var kind: String { get }
    func handle(_ jobs: [FetchedJob]) async throws -> [JobOutcome]
}
