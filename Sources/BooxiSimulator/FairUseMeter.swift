import BooxiAPI

/// Booxi's fair use as the simulator enforces it for one API key: a call is refused with 429 when
/// it comes less than the policy's spacing after the last call admitted, or would put more than
/// the policy's calls into the sliding second or minute before it; a call answered 400 is charged
/// a second time when answered. Refused calls are not charged. Times are milliseconds on one
/// monotonic clock.
struct FairUseMeter: Sendable {
    struct Charge: Sendable, Equatable {
        var at: Int64
        var weight: Int
    }

    let policy: FairUsePolicy
    private(set) var charges: [Charge] = []
    private(set) var arrivals = 0
    private(set) var refused = 0
    private(set) var badRequests = 0
    private(set) var minGapMs: Int64?
    /// Calls refused for coming too soon after the last one admitted.
    private(set) var tooClose = 0
    private var lastArrival: Int64?
    private var lastAdmitted: Int64?

    init(policy: FairUsePolicy) {
        self.policy = policy
    }

    /// Charges a call arriving at `now`, or returns the milliseconds until one would be admitted.
    mutating func admit(at now: Int64) -> Int64? {
        arrivals += 1
        if let lastArrival { minGapMs = min(minGapMs ?? .max, now - lastArrival) }
        lastArrival = now
        if let lastAdmitted, now - lastAdmitted < Int64(policy.minSpacingMs) {
            refused += 1
            tooClose += 1
            return Int64(policy.minSpacingMs) - (now - lastAdmitted)
        }
        let wait = max(waitFor(width: 1_000, limit: policy.perSecond, now: now), waitFor(width: 60_000, limit: policy.perMinute, now: now))
        if wait > 0 {
            refused += 1
            return wait
        }
        charges.append(Charge(at: now, weight: 1))
        lastAdmitted = now
        return nil
    }

    /// A call answered 400 counts double: its second charge, at the answer.
    mutating func chargeBadRequest(at now: Int64) {
        badRequests += 1
        charges.append(Charge(at: now, weight: 1))
    }

    /// How long until one more call fits in the window `(now - width, now]`; 0 if it fits now.
    private func waitFor(width: Int64, limit: Int, now: Int64) -> Int64 {
        var inWindow: [Charge] = []
        for charge in charges.reversed() {
            guard charge.at > now - width else { break }
            inWindow.append(charge)
        }
        var excess = inWindow.reduce(0) { $0 + $1.weight } + 1 - limit
        guard excess > 0 else { return 0 }
        for charge in inWindow.reversed() {  // oldest first
            excess -= charge.weight
            if excess <= 0 { return charge.at + width - now }
        }
        return width
    }

    /// The most charges any window `(t - width, t]` ever held.
    static func busiest(_ charges: [Charge], width: Int64) -> Int {
        let sorted = charges.sorted { $0.at < $1.at }
        var best = 0
        var sum = 0
        var start = 0
        for charge in sorted {
            sum += charge.weight
            while sorted[start].at <= charge.at - width {
                sum -= sorted[start].weight
                start += 1
            }
            best = max(best, sum)
        }
        return best
    }

    struct Report: Codable, Sendable, Equatable {
        var perSecond: Int
        var perMinute: Int
        var arrivals: Int
        var charged: Int
        var refused: Int
        /// Of those refused, the calls that came less than the spacing after the last one admitted.
        var tooClose: Int
        var badRequests: Int
        var busiestSecond: Int
        var busiestMinute: Int
        var minGapMs: Int64?
    }

    var report: Report {
        Report(
            perSecond: policy.perSecond, perMinute: policy.perMinute, arrivals: arrivals, charged: charges.reduce(0) { $0 + $1.weight },
            refused: refused, tooClose: tooClose, badRequests: badRequests, busiestSecond: Self.busiest(charges, width: 1_000),
            busiestMinute: Self.busiest(charges, width: 60_000), minGapMs: minGapMs)
    }
}

/// The meters of every API key, on the simulator's clock.
actor FairUseEnforcer {
    let policy: FairUsePolicy?
    private var meters: [String: FairUseMeter] = [:]
    private let origin = ContinuousClock.now

    init(policy: FairUsePolicy?) {
        self.policy = policy
    }

    private var now: Int64 { (ContinuousClock.now - origin).milliseconds }

    /// nil when the call may go ahead, else the seconds for `Retry-After`.
    func admit(key: String) -> Int? {
        guard let policy else { return nil }
        guard let wait = meters[key, default: FairUseMeter(policy: policy)].admit(at: now) else { return nil }
        return Int((wait + 999) / 1_000)
    }

    func answeredBadRequest(key: String) {
        meters[key]?.chargeBadRequest(at: now)
    }

    /// One report over every key's calls (the simulator normally serves one key).
    func report() -> FairUseMeter.Report? {
        guard let policy else { return nil }
        let all = meters.values
        var merged = FairUseMeter.Report(
            perSecond: policy.perSecond, perMinute: policy.perMinute, arrivals: 0, charged: 0, refused: 0, tooClose: 0, badRequests: 0,
            busiestSecond: 0, busiestMinute: 0, minGapMs: nil)
        for meter in all {
            let report = meter.report
            merged.arrivals += report.arrivals
            merged.charged += report.charged
            merged.refused += report.refused
            merged.tooClose += report.tooClose
            merged.badRequests += report.badRequests
            merged.busiestSecond = max(merged.busiestSecond, report.busiestSecond)
            merged.busiestMinute = max(merged.busiestMinute, report.busiestMinute)
            if let gap = report.minGapMs { merged.minGapMs = min(merged.minGapMs ?? .max, gap) }
        }
        return merged
    }

    func reset() { meters = [:] }
}
