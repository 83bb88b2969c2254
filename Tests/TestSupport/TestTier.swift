import Foundation
import Testing

/// The test tiers (docs/testing.md): `scripts/test.sh --fast` sets `BXT_TEST_TIER=fast` and leaves
/// out what is tagged ``Testing/Tag/slow``; `scripts/test.sh` (CI) runs everything.
public enum TestTier {
    public static let isFast = ProcessInfo.processInfo.environment["BXT_TEST_TIER"] == "fast"
}

extension Tag {
    /// Real role processes, kill -9, thousands of events or long simulated clocks: minutes of a
    /// 2-core machine between them, so only the full tier runs them.
    @Tag public static var slow: Self
}

extension Trait where Self == ConditionTrait {
    /// Runs in the full tier only (with `.tags(.slow)`).
    public static var fullTierOnly: Self {
        .enabled(if: !TestTier.isFast, "a slow suite: the full tier (scripts/test.sh) runs it, --fast leaves it out")
    }
}
