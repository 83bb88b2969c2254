import JobQueue
import Testing

@Suite("RetryPolicy: exponential backoff with full jitter")
struct RetryPolicyTests {
    let policy = RetryPolicy(base: .seconds(1), cap: .seconds(600), maxAttempts: 12)

    @Test func ceilingDoublesFromBaseUpToCap() {
        #expect(policy.ceiling(afterAttempt: 1) == .seconds(1))
        #expect(policy.ceiling(afterAttempt: 2) == .seconds(2))
        #expect(policy.ceiling(afterAttempt: 5) == .seconds(16))
        #expect(policy.ceiling(afterAttempt: 10) == .seconds(512))
        #expect(policy.ceiling(afterAttempt: 11) == .seconds(600))
        #expect(policy.ceiling(afterAttempt: 200) == .seconds(600))
    }

    @Test func jitterIsUniformBetweenZeroAndTheCeiling() {
        #expect(policy.delay(afterAttempt: 3, random: { _ in 0 }) == .zero)
        #expect(policy.delay(afterAttempt: 3, random: { $0 }) == .seconds(4))
        #expect(policy.delay(afterAttempt: 3, random: { $0 / 2 }) == .seconds(2))
        for _ in 0..<1_000 {
            let delay = policy.delay(afterAttempt: 4)!
            #expect(delay >= .zero && delay <= .seconds(8))
        }
    }

    @Test func retryAfterIsAFloor() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(30), random: { $0 }) == .seconds(30))
        #expect(policy.delay(afterAttempt: 8, retryAfter: .seconds(30), random: { $0 }) == .seconds(128))
    }

    @Test func noDelayOnceAttemptsAreUsedUp() {
        #expect(policy.delay(afterAttempt: 11) != nil)
        #expect(policy.delay(afterAttempt: 12) == nil)
        #expect(RetryPolicy(maxAttempts: 1).delay(afterAttempt: 1) == nil)
    }
}
