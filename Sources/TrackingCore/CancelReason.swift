/// Why a visitor cancelled, if they said: one of a short list, and free text. Kept with the command
/// (its queued job and its status record) for the business; Booxi's API names no field for it, so
/// it is not sent there. Free text is personal data: it is never logged.
public struct CancelReason: Codable, Sendable, Equatable {
    public enum Code: String, Codable, Sendable, CaseIterable {
        case scheduleConflict = "schedule_conflict"
        case unwell
        case bookedElsewhere = "booked_elsewhere"
        case noLongerNeeded = "no_longer_needed"
        case other
    }

    public var code: Code?
    public var note: String?

    /// The longest note kept, in characters.
    public static let maxNoteLength = 500

    public enum Invalid: Error, Equatable {
        case unknownCode(String)
        case noteTooLong
    }

    /// Validates what the page sent: a known code (or none), a note of at most ``maxNoteLength``
    /// characters with control characters other than newlines removed. nil when both are empty.
    public init?(code: String?, note: String?) throws(Invalid) {
        let code = code.flatMap { $0.isEmpty ? nil : $0 }
        var parsed: Code?
        if let code {
            guard let known = Code(rawValue: code) else { throw .unknownCode(code) }
            parsed = known
        }
        let cleaned = note.map { text in
            String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 == "\n" || !($0.properties.generalCategory == .control) }))
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }.flatMap { $0.isEmpty ? nil : $0 }
        if let cleaned, cleaned.count > Self.maxNoteLength { throw .noteTooLong }
        guard parsed != nil || cleaned != nil else { return nil }
        self.code = parsed
        self.note = cleaned
    }
}
