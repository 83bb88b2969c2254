import BooxiAPI
@testable import BooxiSimulator
import Testing

/// The simulator's fair-use meter, the stand-in for Booxi's limits in every test and chaos run.
@Suite("Simulator: fair-use meter")
struct FairUseMeterTests {
    @Test func theSimulatorsWindowsAreSliding() {
        var meter = FairUseMeter(policy: FairUsePolicy(perSecond: 2, perMinute: 3, minSpacingMs: 0))
        #expect(meter.admit(at: 0) == nil)
        #expect(meter.admit(at: 400) == nil)
        #expect(meter.admit(at: 999) == 1)  // the call at 0 leaves the window at 1000
        #expect(meter.admit(at: 1_000) == nil)
        meter.chargeBadRequest(at: 1_100)  // counts double: the third of the minute
        #expect(meter.admit(at: 2_500) == 57_900)  // the minute is full until the calls at 0 and 400 are 60 s old
        #expect(meter.admit(at: 60_399) != nil && meter.admit(at: 60_400) == nil)
        #expect(meter.report.refused == 3 && meter.report.badRequests == 1 && meter.report.busiestMinute == 4)
        // The 400 charged after the fact put three charges into (100, 1100]: measured, not prevented.
        #expect(meter.report.busiestSecond == 3 && meter.report.minGapMs == 1)
        #expect(FairUseMeter.busiest([.init(at: 0, weight: 1), .init(at: 1_000, weight: 1)], width: 1_000) == 1)
    }
}
