import Foundation

/// Fault injection, set by `PUT /simulator/faults`: latency, errors by status (a rate or the next
/// N calls), timeouts, dropped connections, and webhook duplicates and reordering.
public struct FaultPlan: Codable, Sendable, Equatable {
    public var latencyMs: Int = 0
    /// Share of API calls answered with `errorStatus` (0...1).
    public var errorRate: Double = 0
    /// The next N API calls are answered with `errorStatus`.
    public var failNext: Int = 0
    public var errorStatus: Int = 503
    /// Sent with 429 answers.
    public var retryAfterSeconds: Int = 1
    /// Share of API calls that hang for `timeoutMs` before answering (a client timeout).
    public var timeoutRate: Double = 0
    public var timeoutMs: Int = 30_000
    /// Share of API calls whose connection is dropped mid-response (0...1).
    public var dropRate: Double = 0
    /// Every webhook is delivered twice.
    public var duplicateWebhooks: Bool = false
    /// Webhooks are delayed by a random 0...N ms, so they can arrive out of order.
    public var reorderWebhooksMs: Int = 0

    public init() {}

    /// Every field is optional in JSON: `{"failNext": 3, "errorStatus": 500}` is a whole plan.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = FaultPlan()
        latencyMs = try c.decodeIfPresent(Int.self, forKey: .latencyMs) ?? d.latencyMs
        errorRate = try c.decodeIfPresent(Double.self, forKey: .errorRate) ?? d.errorRate
        failNext = try c.decodeIfPresent(Int.self, forKey: .failNext) ?? d.failNext
        errorStatus = try c.decodeIfPresent(Int.self, forKey: .errorStatus) ?? d.errorStatus
        retryAfterSeconds = try c.decodeIfPresent(Int.self, forKey: .retryAfterSeconds) ?? d.retryAfterSeconds
        timeoutRate = try c.decodeIfPresent(Double.self, forKey: .timeoutRate) ?? d.timeoutRate
        timeoutMs = try c.decodeIfPresent(Int.self, forKey: .timeoutMs) ?? d.timeoutMs
        dropRate = try c.decodeIfPresent(Double.self, forKey: .dropRate) ?? d.dropRate
        duplicateWebhooks = try c.decodeIfPresent(Bool.self, forKey: .duplicateWebhooks) ?? d.duplicateWebhooks
        reorderWebhooksMs = try c.decodeIfPresent(Int.self, forKey: .reorderWebhooksMs) ?? d.reorderWebhooksMs
    }

    enum Decision: Equatable {
        case pass
        case fail(status: Int)
        case hang(milliseconds: Int)
        case drop
    }

    /// What to do with the next call; consumes one `failNext`.
    mutating func decide() -> Decision {
        if failNext > 0 {
            failNext -= 1
            return .fail(status: errorStatus)
        }
        if timeoutRate > 0 && Double.random(in: 0..<1) < timeoutRate { return .hang(milliseconds: timeoutMs) }
        if dropRate > 0 && Double.random(in: 0..<1) < dropRate { return .drop }
        if errorRate > 0 && Double.random(in: 0..<1) < errorRate { return .fail(status: errorStatus) }
        return .pass
    }
}

/// The fault plan and call counters, shared by the simulator's routes.
actor FaultInjector {
    private(set) var plan: FaultPlan
    private(set) var calls: [String: Int] = [:]

    init(plan: FaultPlan) {
        self.plan = plan
    }

    func set(_ plan: FaultPlan) { self.plan = plan }

    func decide(route: String) -> FaultPlan.Decision {
        calls[route, default: 0] += 1
        return plan.decide()
    }

    func resetCalls() { calls = [:] }
}
