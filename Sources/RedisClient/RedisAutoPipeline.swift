import Metrics

/// Group commit for every non-blocking call: commands that callers submit while round trips are in
/// flight are sent together in the next one, on one connection, with one thread hop. Under load
/// this turns N concurrent calls into a handful of pipelines (the ingress' acknowledged pushes, the
/// API's lookups); an idle client still sends a lone command at once. Each caller gets exactly its
/// own replies; a transport failure fails the calls of that round trip only.
actor RedisAutoPipeline {
    private struct Pending {
        let commands: [RedisCommand]
        let continuation: CheckedContinuation<[RedisReply], any Error>
    }

    private var pending: [Pending] = []
    private var flushers = 0
    private let maxFlushers: Int
    private let maxCommandsPerTrip: Int
    private let roundTrip: @Sendable ([RedisCommand]) async throws -> [RedisReply]
    private let tripSize = Recorder(label: "booxi_tracking_redis_pipeline_commands", aggregate: true)

    /// `maxFlushers` round trips at most run at once (one per pooled connection).
    init(maxFlushers: Int, maxCommandsPerTrip: Int = 1_024, roundTrip: @escaping @Sendable ([RedisCommand]) async throws -> [RedisReply]) {
        self.maxFlushers = max(1, maxFlushers)
        self.maxCommandsPerTrip = maxCommandsPerTrip
        self.roundTrip = roundTrip
    }

    func submit(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        if pending.isEmpty && flushers < maxFlushers {
            // Nothing queued and a connection free: this caller makes the round trip itself, no
            // extra task. Calls arriving meanwhile queue up; a drain task takes them afterwards.
            flushers += 1
            tripSize.record(commands.count)
            let result: Result<[RedisReply], any Error>
            do { result = .success(try await roundTrip(commands)) } catch { result = .failure(error) }
            flushers -= 1
            startDrainIfNeeded()
            return try result.get()
        }
        return try await withCheckedThrowingContinuation { continuation in
            pending.append(Pending(commands: commands, continuation: continuation))
            startDrainIfNeeded()
        }
    }

    private func startDrainIfNeeded() {
        guard !pending.isEmpty, flushers < maxFlushers else { return }
        flushers += 1
        // Lives only while there is something to send; it ends when `pending` is empty.
        Task { await self.drain() }
    }

    private func drain() async {
        while !pending.isEmpty {
            var batch: [Pending] = []
            var count = 0
            while let next = pending.first, batch.isEmpty || count + next.commands.count <= maxCommandsPerTrip {
                batch.append(pending.removeFirst())
                count += next.commands.count
            }
            tripSize.record(count)
            let commands = batch.flatMap(\.commands)
            do {
                let replies = try await roundTrip(commands)
                var offset = 0
                for entry in batch {
                    entry.continuation.resume(returning: Array(replies[offset..<offset + entry.commands.count]))
                    offset += entry.commands.count
                }
            } catch {
                for entry in batch { entry.continuation.resume(throwing: error) }
            }
        }
        flushers -= 1
    }
}
