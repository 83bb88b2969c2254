extension Result where Failure == any Error {
    /// `Result(catching:)` for async work: lets cleanup run before an error is rethrown.
    public init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
