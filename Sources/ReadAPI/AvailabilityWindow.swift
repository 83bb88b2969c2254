import BooxiModels
import Foundation

/// The days an availability query asks for, normalised before anything reaches the cache key or
/// Booxi: whole UTC days (the page asks for one day, `T00:00:00Z` to the next), at most
/// ``maxDays``, starting no earlier than yesterday and no later than the horizon. So the cache
/// keys one service can have are bounded (horizon × 14), and with them the Booxi calls a booking
/// can cost, whatever `from`/`to` values a visitor sends: a minute's offset no longer makes a key
/// of its own.
struct AvailabilityWindow: Equatable, Sendable {
    /// The documented longest window (docs/architecture.md).
    static let maxDays = 14
    static let secondsPerDay = 86_400
    /// An ISO-8601 time is at most 35 characters (`2025-01-01T00:00:00.123456789+01:00`).
    static let maxTextLength = 40

    enum Refusal: Error, Equatable {
        /// Missing, not ISO-8601, or not in order.
        case invalid
        case tooLong
        /// Starts before yesterday or after the horizon.
        case outOfBounds
    }

    /// Days since 1970-01-01 (UTC) of the first day.
    let firstDay: Int
    let days: Int

    var from: Date { Date(timeIntervalSince1970: TimeInterval(firstDay) * TimeInterval(Self.secondsPerDay)) }
    var to: Date { Date(timeIntervalSince1970: TimeInterval(firstDay + days) * TimeInterval(Self.secondsPerDay)) }

    init(firstDay: Int, days: Int) {
        self.firstDay = firstDay
        self.days = days
    }

    init(from fromText: String?, to toText: String?, horizonDays: Int, now: Date = Date()) throws(Refusal) {
        guard let fromText, let toText, Self.looksLikeATime(fromText), Self.looksLikeATime(toText),
            let start = ISO8601.parse(fromText), let end = ISO8601.parse(toText), start < end,
            let first = Self.day(start, .down), let last = Self.day(end, .up)
        else { throw .invalid }
        // Both days are within ±10¹¹ s of 1970, so none of this arithmetic can overflow.
        guard last - first <= Self.maxDays else { throw .tooLong }
        guard let today = Self.day(now, .down), first >= today - 1, first <= today + horizonDays else { throw .outOfBounds }
        self.init(firstDay: first, days: last - first)
    }

    /// At most ``maxTextLength`` characters of an ISO-8601 time (digits, `-:.+TZ`): Foundation's
    /// parser reads `2026-03-12T00:00:00Z\0junk` as a time, and nothing else should reach it.
    private static func looksLikeATime(_ text: String) -> Bool {
        (1...maxTextLength).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (0x30...0x39).contains(byte) || byte == 0x2D || byte == 0x3A || byte == 0x2E || byte == 0x2B || byte == 0x54 || byte == 0x5A
            }
    }

    /// The day number of `date`, rounded down (the day it falls in) or up (the day boundary at or
    /// after it); nil for a date no calendar of ours would hold (beyond about ±3,000 years).
    private static func day(_ date: Date, _ rule: FloatingPointRoundingRule) -> Int? {
        let seconds = date.timeIntervalSince1970
        guard seconds.isFinite, abs(seconds) < 1e11 else { return nil }
        return Int((seconds / TimeInterval(secondsPerDay)).rounded(rule))
    }
}
