import BooxiModels
import RedisClient

/// The budget as `admin budget` shows it: what is charged now, who waits, and per class the calls
/// made and how long they waited (the last 1,000 waits), read from Redis, so it covers every process.
public struct BooxiBudgetReport: Sendable {
    public struct ClassFigures: Sendable {
        public var waiting: Int
        public var calls: Int
        /// Callers whose wait ran out before their turn.
        public var timedOut: Int
        public var waitP50Ms: Int?
        public var waitP99Ms: Int?
    }

    public var policy: FairUsePolicy
    public var chargedLastSecond: Int
    public var chargedLastMinute: Int
    public var pauseLeftMs: Int
    public var dispatching: Bool
    public var classes: [(BooxiCallClass, ClassFigures)]
    /// Answers by status (`200`, `400`, `429`, `transport`, ...).
    public var answers: [(String, Int)]

    public static func read(redis: RedisClient, keyPrefix: String, policy: FairUsePolicy) async throws -> BooxiBudgetReport {
        let keys = BooxiBudgetKeys(prefix: keyPrefix)
        let now = try await redis.eval(BooxiBudgetScripts.report, keys: [keys.queue, keys.calls, keys.state]).array?.map { $0.int ?? 0 } ?? []
        let stats = try await redis.send("HGETALL", keys.stats).fields.mapValues { Int(String(decoding: $0, as: UTF8.self)) ?? 0 }
        var classes: [(BooxiCallClass, ClassFigures)] = []
        for callClass in BooxiCallClass.allCases {
            let waits = try await redis.lrange(keys.waits(callClass), 0, -1).compactMap { Int(String(decoding: $0, as: UTF8.self)) }.sorted()
            let queued = stats["calls:\(callClass.rawValue)"] ?? 0
            let atOnce = stats["atOnce:\(callClass.rawValue)"] ?? 0
            classes.append(
                (
                    callClass,
                    ClassFigures(
                        waiting: now.count > 2 + callClass.rawValue ? now[2 + callClass.rawValue] : 0,
                        calls: queued + atOnce, timedOut: stats["expired:\(callClass.rawValue)"] ?? 0,
                        waitP50Ms: waitPercentile(0.5, queuedWaits: waits, queued: queued, atOnce: atOnce),
                        waitP99Ms: waitPercentile(0.99, queuedWaits: waits, queued: queued, atOnce: atOnce))
                ))
        }
        let answers = stats.filter { $0.key.hasPrefix("status:") }.map { (String($0.key.dropFirst(7)), $0.value) }.sorted { $0.0 < $1.0 }
        return BooxiBudgetReport(
            policy: policy, chargedLastSecond: now.first ?? 0, chargedLastMinute: now.count > 1 ? now[1] : 0,
            pauseLeftMs: now.count > 2 ? now[2] : 0, dispatching: try await redis.send("EXISTS", keys.leader).int == 1,
            classes: classes, answers: answers)
    }

    /// A wait percentile over every grant: those granted on arrival waited 0 ms; the queued ones are
    /// represented by their last 1,000 waits.
    static func waitPercentile(_ p: Double, queuedWaits waits: [Int], queued: Int, atOnce: Int) -> Int? {
        let total = queued + atOnce
        guard total > 0 else { return nil }
        let shareAtOnce = Double(atOnce) / Double(total)
        if p < shareAtOnce { return 0 }
        guard !waits.isEmpty else { return nil }
        let within = (p - shareAtOnce) / (1 - shareAtOnce)
        return waits[min(waits.count - 1, Int(Double(waits.count) * within))]
    }

    /// The report as `admin budget` prints it.
    public var text: String {
        var lines = [
            "limits: \(policy.perSecond)/s, \(policy.perMinute)/min, \(policy.minSpacingMs) ms apart (a 400 counts twice)",
            "charged now: \(chargedLastSecond) in the last second, \(chargedLastMinute) in the last minute"
                + " (calls in flight count until one window after their answer; a PUT or availability query holds 2)",
            "paused by a 429: " + (pauseLeftMs > 0 ? "\(pauseLeftMs) ms left" : "no"),
            "dispatcher: " + (dispatching ? "running" : "none (no worker or API process is up)"),
            "class      waiting    calls  timed out  wait p50  wait p99",
        ]
        for (callClass, figures) in classes {
            let p50 = figures.waitP50Ms.map { "\($0) ms" } ?? "-"
            let p99 = figures.waitP99Ms.map { "\($0) ms" } ?? "-"
            lines.append(
                callClass.description.padding(toLength: 9, withPad: " ", startingAt: 0)
                    + [String(figures.waiting), String(figures.calls), String(figures.timedOut), p50, p99]
                    .map { String(repeating: " ", count: max(0, 9 - $0.count)) + $0 }.joined(separator: " "))
        }
        lines.append("answers: " + (answers.isEmpty ? "none yet" : answers.map { "\($0.0): \($0.1)" }.joined(separator: ", ")))
        return lines.joined(separator: "\n")
    }
}
