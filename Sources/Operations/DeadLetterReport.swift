import Foundation
import JobQueue

/// Dead letters as an operator looks at them: filtered by reason, kind and time, grouped by
/// reason, with personal data (names, e-mail, phone) masked unless revealed.
public struct DeadLetterFilter: Sendable, Equatable, Codable {
    public var reason: String?
    public var kind: String?
    /// Milliseconds since 1970, inclusive.
    public var since: Int64?
    public var until: Int64?

    public init(reason: String? = nil, kind: String? = nil, since: Int64? = nil, until: Int64? = nil) {
        self.reason = reason
        self.kind = kind
        self.since = since
        self.until = until
    }

    public func matches(_ letter: DeadLetter) -> Bool {
        if let reason, !reason.isEmpty, DeadLetterReport.group(of: letter.reason) != reason { return false }
        if let kind, !kind.isEmpty, letter.job.kind.rawValue != kind { return false }
        if let since, letter.failedAt < since { return false }
        if let until, letter.failedAt > until { return false }
        return true
    }
}

public enum DeadLetterReport {
    /// One letter as listed: its envelope's payload masked.
    public struct Item: Sendable, Equatable, Codable {
        public var id: String
        public var kind: String
        public var reason: String
        public var group: String
        public var attempts: Int
        public var lastError: String?
        public var failedAt: Int64
        public var receivedAt: Int64
        public var payload: String
    }

    public struct Group: Sendable, Equatable, Codable {
        public var reason: String
        public var count: Int
    }

    /// The reason without the details that make each letter's text unique (ids, numbers in
    /// quotes), so letters that failed for the same cause fall into one group.
    public static func group(of reason: String) -> String {
        var text = reason
        text = text.replacingOccurrences(of: #"'[^']*'"#, with: "'…'", options: .regularExpression)
        text = text.replacingOccurrences(of: #"\"[^\"]*\""#, with: "\"…\"", options: .regularExpression)
        text = text.replacingOccurrences(of: #"\b[0-9a-f]{8}-[0-9a-f-]{27}\b"#, with: "…", options: .regularExpression)
        return text
    }

    public static func groups(_ letters: [DeadLetter]) -> [Group] {
        Dictionary(grouping: letters, by: { group(of: $0.reason) })
            .map { Group(reason: $0.key, count: $0.value.count) }
            .sorted { ($0.count, $1.reason) > ($1.count, $0.reason) }
    }

    public static func item(_ letter: DeadLetter, revealed: Bool = false) -> Item {
        Item(
            id: letter.job.id, kind: letter.job.kind.rawValue, reason: letter.reason, group: group(of: letter.reason),
            attempts: letter.attempts, lastError: letter.lastError, failedAt: letter.failedAt, receivedAt: letter.job.receivedAt,
            payload: revealed ? letter.job.payload : PersonalData.mask(letter.job.payload))
    }
}

/// Masks personal data in a payload: the values of name, e-mail and phone fields, and anything
/// shaped like an e-mail address, whether the payload is JSON or not.
public enum PersonalData {
    static let fields = ["firstName", "lastName", "name", "email", "phone", "phoneNumber", "mobilePhone", "note"]

    public static func mask(_ text: String) -> String {
        var masked = text
        for field in fields {
            masked = masked.replacingOccurrences(
                of: #"("\#(field)"\s*:\s*")((?:[^"\\]|\\.)*)(")"#, with: "$1•••$3", options: .regularExpression)
        }
        return masked.replacingOccurrences(of: #"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"#, with: "•••@•••", options: .regularExpression)
    }
}
