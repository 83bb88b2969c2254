/// Who a Booxi call is for, highest priority first. The scheduler serves classes strictly in this
/// order and, within a class, in order of arrival across all processes.
public enum BooxiCallClass: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// A visitor's cancel or modify (`PUT /booking/{id}`), run by a worker.
    case command = 1
    /// A call a visitor is waiting on: the first fetch of an uncached booking, services and
    /// availability for a modify.
    case visitor = 2
    /// Fetching a booking a webhook announced without its details, before its visitor asks.
    case prefetch = 3
    /// Refreshing a cached booking whose TTL passed (webhooks keep it current in between).
    case refresh = 4

    /// The metric label and the name `admin budget` prints.
    public var description: String {
        switch self {
        case .command: "command"
        case .visitor: "visitor"
        case .prefetch: "prefetch"
        case .refresh: "refresh"
        }
    }

    public static func < (lhs: BooxiCallClass, rhs: BooxiCallClass) -> Bool { lhs.rawValue < rhs.rawValue }
}
