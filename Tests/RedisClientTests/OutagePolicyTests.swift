import Foundation
import Logging
@testable import RedisClient
import Synchronization
import TestSupport
import Testing

/// A clock that only moves when someone sleeps on it: minutes of outage in microseconds.
final class SimulatedClock: Sendable {
    let start = ContinuousClock.now
    private let state = Mutex<(elapsed: Duration, sleeps: [Duration])>((.zero, []))

    var elapsed: Duration { state.withLock { $0.elapsed } }
    var sleeps: [Duration] { state.withLock { $0.sleeps } }

    var outageClock: OutageClock {
        OutageClock(
            now: { [self] in start + elapsed },
            sleep: { [self] duration in
                state.withLock { state in
                    state.elapsed += duration
                    state.sleeps.append(duration)
                }
            })
    }
}

private struct Unreachable: Error {}

@Suite("OutagePause: one outage policy for every background loop")
struct OutagePolicyTests {
    static func lines(_ logs: LogCapture, containing text: String) -> Int {
        logs.text.split(separator: "\n").filter { $0.contains(text) }.count
    }

    @Test func aThreeMinuteOutageIsFiveLinesNotHundreds() async {
        let logs = LogCapture()
        let clock = SimulatedClock()
        let pause = OutagePause("housekeeping", logger: logs.logger, policy: .standard, clock: clock.outageClock, jitter: { 1 })
        var attempts = 0
        // Attempts from 0 s to just past 3 min: the one after 180 s is the third "still" line.
        while clock.elapsed < .seconds(182) {
            await pause.failed(Unreachable())
            attempts += 1
        }
        pause.succeeded()
        pause.succeeded()  // a loop calls it after every round trip: only the first ends an outage

        #expect(attempts > 30)
        #expect(Self.lines(logs, containing: "warning housekeeping paused: Redis unreachable") == 1)
        #expect(Self.lines(logs, containing: "warning housekeeping still paused: Redis unreachable for") == 3)
        #expect(Self.lines(logs, containing: "notice housekeeping resumed: Redis reachable again after 3 min") == 1)
        #expect(logs.text.split(separator: "\n").count == 5)
        #expect(logs.text.contains("still paused: Redis unreachable for 1 min") && logs.text.contains("still paused: Redis unreachable for 2 min"))
        #expect(pause.failures == 0)

        // The next outage is announced afresh, and its backoff starts small again.
        await pause.failed(Unreachable())
        #expect(Self.lines(logs, containing: "housekeeping paused: Redis unreachable") == 2)
        #expect(clock.sleeps.last == .milliseconds(100))
    }

    @Test func backoffDoublesFromAHundredMillisecondsAndStopsAtFiveSeconds() {
        let policy = OutagePolicy.standard
        let nominal = (1...12).map { policy.nominalDelay(afterFailures: $0) }
        #expect(Array(nominal.prefix(7)) == [100, 200, 400, 800, 1_600, 3_200, 5_000].map { Duration.milliseconds($0) })
        #expect(nominal.allSatisfy { $0 <= .seconds(5) })
        #expect(zip(nominal, nominal.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(policy.nominalDelay(afterFailures: 10_000) == .seconds(5))
    }

    @Test func jitterStaysBetweenHalfAndAllOfTheNominalDelay() async {
        let policy = OutagePolicy.standard
        for failures in [1, 3, 8] {
            let nominal = policy.nominalDelay(afterFailures: failures)
            #expect(policy.delay(afterFailures: failures, jitter: 0) == nominal / 2)
            #expect(policy.delay(afterFailures: failures, jitter: 1) == nominal)
        }
        let clock = SimulatedClock()
        let pause = OutagePause(
            "lane", logger: Logger(label: "test.outage"), policy: policy, clock: clock.outageClock, jitter: { Double.random(in: 0...1) })
        for _ in 0..<200 { await pause.failed(Unreachable()) }
        for (index, slept) in clock.sleeps.enumerated() {
            let nominal = policy.nominalDelay(afterFailures: index + 1)
            #expect(slept >= nominal / 2 && slept <= nominal)
        }
        // Jitter really varies the waits once they are capped.
        #expect(Set(clock.sleeps.suffix(100)).count > 10)
    }

    @Test func loopsSharingOneOutageLogItOnce() async {
        let logs = LogCapture()
        let clock = SimulatedClock()
        let pause = OutagePause("booking fetcher", logger: logs.logger, policy: .standard, clock: clock.outageClock, jitter: { 0.5 })
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { for _ in 0..<5 { await pause.failed(Unreachable()) } } }
        }
        pause.succeeded()
        #expect(Self.lines(logs, containing: "booking fetcher paused") == 1)
        #expect(Self.lines(logs, containing: "booking fetcher resumed") == 1)
    }

    @Test func cancellationEndsTheWaitAtOnce() async {
        // With an hour's backoff, only cancellation can end this loop within the test.
        let policy = OutagePolicy(firstDelay: .seconds(3_600), maximumDelay: .seconds(3_600), reportInterval: .seconds(60))
        let pause = OutagePause("test loop", logger: Logger(label: "test.outage"), policy: policy)
        let loop = Task {
            while !Task.isCancelled { await pause.failed(Unreachable()) }
        }
        try? await Task.sleep(for: .milliseconds(50))
        loop.cancel()
        await loop.value
        #expect(pause.failures >= 1)
    }

    @Test func durationsReadAsPeopleSayThem() {
        #expect(Duration.milliseconds(850).outageText == "850 ms")
        #expect(Duration.seconds(42).outageText == "42 s")
        #expect(Duration.seconds(185).outageText == "3 min 5 s")
    }
}
