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

    /// The spacing the dispatcher keeps between two grants: Booxi's, plus a margin for the time a
    /// grant takes to become a request, which differs by path. The dispatcher's own caller sends
    /// at once; a caller in another process is woken through Redis first (a round trip and a
    /// thread hop, up to a few milliseconds under load). Without the margin a woken caller's call
    /// and the next local one arrived 7.7 ms apart. At 5 calls a second the margin costs nothing.
    public var dispatchSpacingMs: Int { minSpacingMs + max(5, minSpacingMs / 2) }

    /// How long a grant holds back the next one while its call is in flight. A call reaches Booxi
    /// somewhere between its grant and its answer: a first call on a new connection waits for the
    /// connection (and a TLS handshake) first, and a process may stall between the grant and the
    /// request, so a next call granted only the spacing later could reach Booxi before it. So the
    /// next grant waits for this call's answer (then the spacing after it), or, whichever comes
    /// first, for a second's share of the budget (200 ms at 5 a second) and never less than
    /// ``minimumInFlightHoldMs``. Sustained, the budget allows no more than one call per share
    /// anyway; the floor only matters above 10 calls a second, and only while answers are slower.
    public var inFlightHoldMs: Int { max(dispatchSpacingMs, 1_000 / max(1, perSecond), Self.minimumInFlightHoldMs) }

    /// The shortest hold of a call in flight. With the tests' raised budget (100 a second) a share
    /// was 10 ms, and on a loaded CI machine a stalled process' call reached the simulator after
    /// the next one: refused as too close, and every process paused for a second.
    public static let minimumInFlightHoldMs = 100
}
