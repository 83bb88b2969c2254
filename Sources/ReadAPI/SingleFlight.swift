/// Concurrent requests for the same key share one piece of work: the first caller runs it, the
/// others wait for its result (a lookup storm for one booking makes one Booxi call).
actor SingleFlight<Value: Sendable> {
    private var waiting: [String: [CheckedContinuation<Result<Value, any Error>, Never>]] = [:]

    func run(key: String, _ work: @Sendable () async throws -> Value) async throws -> Value {
        if waiting[key] != nil {
            return try await withCheckedContinuation { waiting[key]!.append($0) }.get()
        }
        waiting[key] = []
        let result: Result<Value, any Error>
        do { result = .success(try await work()) } catch { result = .failure(error) }
        for waiter in waiting.removeValue(forKey: key) ?? [] { waiter.resume(returning: result) }
        return try result.get()
    }
}
