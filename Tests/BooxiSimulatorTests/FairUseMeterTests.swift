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

    /// Booxi asks for 10 ms between calls; the simulator refuses a call that comes sooner, so a
    /// scheduler that lets arrival jitter close the gap shows up as a 429 in every test.
    @Test func aCallLessThanTheSpacingAfterTheLastOneAdmittedIsRefused() {
        var meter = FairUseMeter(policy: FairUsePolicy(perSecond: 5, perMinute: 300, minSpacingMs: 10))
        #expect(meter.admit(at: 0) == nil)
        #expect(meter.admit(at: 7) == 3)  // the 7.7 ms gap seen in a rush hour: refused
        #expect(meter.admit(at: 9) == 1)  // measured from the call admitted, not the one refused
        #expect(meter.admit(at: 10) == nil)
        #expect(meter.report.refused == 2 && meter.report.tooClose == 2 && meter.report.charged == 2 && meter.report.minGapMs == 1)
    }

    @Test func theDispatcherKeepsAMarginOverBooxisSpacing() {
        #expect(FairUsePolicy.booxi.dispatchSpacingMs == 15)
        #expect(FairUsePolicy(perSecond: 3, perMinute: 20, minSpacingMs: 150).dispatchSpacingMs == 225)
        #expect(FairUsePolicy(perSecond: 10, perMinute: 100, minSpacingMs: 0).dispatchSpacingMs == 5)
        // A call in flight holds the next grant back for a second's share of the budget at most,
        // never less than 100 ms.
        #expect(FairUsePolicy.booxi.inFlightHoldMs == 200)
        #expect(FairUsePolicy(perSecond: 3, perMinute: 20, minSpacingMs: 150).inFlightHoldMs == 333)
        #expect(FairUsePolicy(perSecond: 100_000, perMinute: 10_000_000, minSpacingMs: 1).inFlightHoldMs == 100)
    }
}
