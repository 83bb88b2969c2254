import Metrics

/// Group commit for every non-blocking call: commands that callers submit while a round trip is in
/// flight are sent together in the next one, on one connection, with one thread hop. Under load
/// this turns N concurrent calls into a handful of pipelines (the ingress' acknowledged pushes, the
/// API's lookups); an idle client still sends a lone command at once. A second round trip starts
/// beside one in flight only once `extraFlusherThreshold` commands wait: each trip costs a thread
/// wake-up and a write and a read on both sides whatever it carries, and with a second trip always
/// free most trips carried one or two commands (the ingress spent a tenth more CPU, Redis a third
/// more, per webhook). Each caller gets exactly its own replies; a transport failure fails the
/// calls of that round trip only.
actor RedisAutoPipeline {
    private struct Pending {
        let commands: [RedisCommand]
        let continuation: CheckedContinuation<[RedisReply], any Error>
    }

    private var pending: [Pending] = []
    /// Commands in `pending`.
    private(set) var pendingCommands = 0
    private var flushers = 0
    private let maxFlushers: Int
    /// Commands that must be waiting before a second round trip starts beside one in flight.
    private let extraFlusherThreshold: Int
    private let maxCommandsPerTrip: Int
    private let roundTrip: @Sendable ([RedisCommand]) async throws -> [RedisReply]
    private let tripSize = Recorder(label: "booxi_tracking_redis_pipeline_commands", aggregate: true)

    /// `maxFlushers` round trips at most run at once (one per pooled connection).
    init(
        maxFlushers: Int, extraFlusherThreshold: Int = 32, maxCommandsPerTrip: Int = 1_024,
        roundTrip: @escaping @Sendable ([RedisCommand]) async throws -> [RedisReply]
    ) {
        self.maxFlushers = max(1, maxFlushers)
        self.extraFlusherThreshold = extraFlusherThreshold
        self.maxCommandsPerTrip = maxCommandsPerTrip
        self.roundTrip = roundTrip
    }

    func submit(_ commands: [RedisCommand]) async throws -> [RedisReply] {
        if flushers == 0 {
            // Nothing in flight (so nothing queued): this caller makes the round trip itself, no
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
            pendingCommands += commands.count
            startDrainIfNeeded()
        }
    }

    /// Whether what waits should go out now, with `others` round trips in flight besides.
    private func tripIsDue(besides others: Int) -> Bool {
        !pending.isEmpty && (others == 0 || (others < maxFlushers && pendingCommands >= extraFlusherThreshold))
    }

    private func startDrainIfNeeded() {
        guard tripIsDue(besides: flushers) else { return }
        flushers += 1
        // Lives while trips are due; what it leaves waiting, the trip still in flight takes after.
        Task { await self.drain() }
    }

    private func drain() async {
        while tripIsDue(besides: flushers - 1) {
            var taken = 0
            var count = 0
            while taken < pending.count, taken == 0 || count + pending[taken].commands.count <= maxCommandsPerTrip {
                count += pending[taken].commands.count
                taken += 1
            }
            let batch = pending[..<taken]
            pending.removeFirst(taken)
            pendingCommands -= count
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
