/// Booxi's fair-use policy for one Partner API key (docs/architecture.md §6): at most `perSecond` calls in any
/// sliding second, `perMinute` in any sliding minute, `minSpacing` between calls; a call answered
/// 400 counts twice; past the limit Booxi answers 429 with `Retry-After`.
public struct FairUsePolicy: Sendable, Equatable {
    public var perSecond: Int
    public var perMinute: Int
    public var minSpacingMs: Int

    public init(perSecond: Int = 5, perMinute: Int = 300, minSpacingMs: Int = 10) {
        self.perSecond = perSecond
        self.perMinute = perMinute
        self.minSpacingMs = minSpacingMs
    }

    /// Booxi's published figures.
    public static let booxi = FairUsePolicy()
}
