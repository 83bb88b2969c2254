import BooxiModels
/// The Redis keys of the shared Booxi budget. All share the `{r}` hash tag, so every budget
/// script stays in one Redis Cluster slot.
public struct BooxiBudgetKeys: Sendable {
    public let prefix: String

    public init(prefix: String = "bxt:") {
        self.prefix = prefix
    }

    var base: String { prefix + "{r}:booxi:" }

    /// Zset of waiting callers, scored by class then arrival: `<process>|<ticket>|<class>|<enqueuedMs>|<deadlineMs>`.
    public var queue: String { base + "queue" }
    /// Arrival counter, for FIFO order within a class across processes.
    var sequence: String { base + "sequence" }
    /// Zset of calls charged against the windows, scored by when each stops counting (see
    /// ``BooxiScheduler``); a call in flight also holds a `<id>+` member for a possible 400.
    public var calls: String { base + "calls" }
    /// Hash: `last` (ms of the last grant), `pausedUntil` (ms, set by a 429: no grant before it,
    /// for everyone).
    var state: String { base + "state" }
    /// Hash of counters since the key was created: `calls:<class>` (granted after a wait in the
    /// queue), `atOnce:<class>` (granted on arrival), `expired:<class>`, `status:<code>`.
    public var stats: String { base + "stats" }
    /// Wakes the dispatching process when work arrives or budget frees up early.
    var bell: String { base + "bell" }
    /// The one process that dispatches grants at a time.
    public var leader: String { base + "leader" }
    /// Grants for one process' callers.
    var grantsPrefix: String { base + "grants:" }
    func grants(_ process: String) -> String { grantsPrefix + process }
    /// Exists while a process is alive; grants are not handed to dead processes.
    var alivePrefix: String { base + "alive:" }
    func alive(_ process: String) -> String { alivePrefix + process }
    /// The last 1,000 queue waits (ms) of a class, for `admin budget`.
    var waitsPrefix: String { base + "waits:" }
    public func waits(_ callClass: BooxiCallClass) -> String { waitsPrefix + String(callClass.rawValue) }
}
