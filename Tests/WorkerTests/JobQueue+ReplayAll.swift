import JobQueue

extension JobQueue {
    /// Replays every dead letter, as `admin dead replay` without a filter does: only tests want
    /// this without choosing, so it lives here and goes through the production path (by id).
    @discardableResult
    func replayDeadLetters() async throws -> Int {
        try await replayDeadLetters(ids: try await allDeadLetters().map(\.job.id))
    }
}
