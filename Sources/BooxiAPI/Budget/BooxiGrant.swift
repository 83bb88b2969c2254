import BooxiModels
/// Permission for one Booxi call, handed out by the ``BooxiScheduler``. The call it stands for is
/// already charged against the budget; ``BooxiScheduler/settle(_:status:retryAfter:)`` records how
/// it ended, ``BooxiScheduler/release(_:)`` returns it unused.
public struct BooxiGrant: Sendable, Equatable {
    /// The call's id in the shared call log.
    public let callID: String
    public let callClass: BooxiCallClass
    /// How long the caller waited in the queue.
    public let waited: Duration
    /// Units the call holds while in flight: 2 for a call Booxi may answer 400.
    let units: Int

    init(callID: String, callClass: BooxiCallClass, waited: Duration, units: Int = 1) {
        self.callID = callID
        self.callClass = callClass
        self.waited = waited
        self.units = units
    }
}
