/// What a job is, and so which waiting list it belongs to. The one place that rule is written:
/// the queue's Lua routes with ``QueueScripts/waitingListFunction``, generated from it.
public enum JobKind: String, Codable, Sendable, CaseIterable {
    /// A webhook delivery from Booxi, payload byte for byte.
    case webhook
    /// A visitor's cancel, from the read API.
    case cancel
    /// A visitor's change of time or service, from the read API.
    case modify
    /// Bytes found in a queue that were not a job envelope, kept in the dead letters as they came.
    case unreadable

    public var queue: QueueName { self == .webhook ? .webhooks : .commands }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        // `unknown` is how dead letters written before this enum named unreadable bytes.
        guard let kind = JobKind(rawValue: raw == "unknown" ? "unreadable" : raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown job kind '\(raw.prefix(32))'"))
        }
        self = kind
    }
}

/// The waiting lists workers fetch from. Commands are served before webhooks.
public enum QueueName: String, Sendable, CaseIterable {
    case webhooks, commands
}
