import BooxiModels
import Crypto
import Foundation
import TrackingCore

/// One appointment as an iCalendar file (RFC 5545), for `GET /api/tracking/:code/calendar.ics`.
/// A calendar that imported it recognises the next download as the same event and updates it:
/// - `UID` is stable per booking (across code changes) yet reveals nothing: an HMAC of the
///   bookingId under a server key;
/// - `SEQUENCE` rises with every change (the record's count of changes);
/// - a cancelled booking says `STATUS:CANCELLED`.
/// Times are in the venue's zone (`DTSTART;TZID=`), with the `VTIMEZONE` that defines it built
/// from the system's time zone database; UTC times when the zone is UTC.
struct CalendarFile: Sendable {
    var uid: String
    var sequence: Int
    var stamp: Date
    var start: Date
    var end: Date
    var timeZone: TimeZone
    var summary: String
    var location: String?
    var latitude: Double?
    var longitude: Double?
    var description: String?
    var url: String?
    var state: BookingState

    /// What the file needs beyond the booking: the UID key, the page's name and where it lives.
    struct Writer: Sendable {
        let uidKey: SymmetricKey
        let businessName: String
        /// `api.publicURL`: without it the file has no link back to the page.
        let publicURL: String
        let messages: MessageCatalog

        func file(for view: TrackingView, venue: Venue, record: BookingRecord, language: String, now: Date = Date()) -> CalendarFile? {
            guard let start = view.startsOn.flatMap(ISO8601.parse) else { return nil }
            // In Double: a duration from Booxi's data, however large, cannot overflow an Int here.
            let end = view.endsOn.flatMap(ISO8601.parse) ?? start.addingTimeInterval(Double(view.duration ?? 30) * 60)
            let mac = HMAC<SHA256>.authenticationCode(for: Data(("booking:" + record.bookingID).utf8), using: uidKey)
            let link = publicURL.isEmpty ? nil : publicURL.trimmingSuffix("/") + "/track/" + view.trackingCode
            let place: String? =
                switch view.location.kind {
                case "business": [venue.name, venue.address].compactMap { $0 }.joined(separator: ", ").nilIfEmpty
                case "video": view.location.videoUrl
                default: view.location.text
                }
            let summary = [view.serviceName?.nilIfEmpty, businessName.nilIfEmpty].compactMap { $0 }.joined(separator: " · ")
            return CalendarFile(
                uid: Array(mac).prefix(16).map { String(format: "%02x", $0) }.joined() + "@booxi-tracking",
                sequence: record.changes,
                stamp: now, start: start, end: end, timeZone: TimeZone(identifier: view.timeZone) ?? .gmt,
                summary: summary.isEmpty ? messages.text("title", language) : summary,
                location: place, latitude: view.location.kind == "business" ? venue.latitude : nil,
                longitude: view.location.kind == "business" ? venue.longitude : nil,
                description: link.map { messages.text("calendarDescription", language, ["url": $0]) }, url: link,
                state: BookingState(rawValue: view.state) ?? .confirmed)
        }
    }

    var text: String {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//booxi-tracking//tracking page//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
        let isUTC = timeZone.secondsFromGMT(for: start) == 0 && timeZone.nextDaylightSavingTimeTransition(after: start) == nil
        if !isUTC { lines += Self.timeZoneComponent(timeZone, around: start) }
        lines += [
            "BEGIN:VEVENT",
            "UID:" + uid,
            "DTSTAMP:" + Self.utc(stamp),
            "SEQUENCE:\(sequence)",
            isUTC ? "DTSTART:" + Self.utc(start) : "DTSTART;TZID=\(timeZone.identifier):" + Self.local(start, timeZone),
            isUTC ? "DTEND:" + Self.utc(end) : "DTEND;TZID=\(timeZone.identifier):" + Self.local(end, timeZone),
            "SUMMARY:" + Self.escape(summary),
        ]
        if let location { lines.append("LOCATION:" + Self.escape(location)) }
        if let latitude, let longitude { lines.append(String(format: "GEO:%.6f;%.6f", latitude, longitude)) }
        if let description { lines.append("DESCRIPTION:" + Self.escape(description)) }
        if let url { lines.append("URL:" + url) }
        lines.append("STATUS:" + Self.status(state))
        lines += ["END:VEVENT", "END:VCALENDAR"]
        return lines.map(Self.fold).joined(separator: "\r\n") + "\r\n"
    }

    static func status(_ state: BookingState) -> String {
        switch state {
        case .cancelled: "CANCELLED"
        case .pendingStaffApproval, .pendingClientApproval: "TENTATIVE"
        default: "CONFIRMED"
        }
    }

    /// `VTIMEZONE` for the zone: the observance in force a year before the event, then each
    /// transition until a year after it (RFC 5545 §3.6.5 allows explicit onsets without RRULE).
    static func timeZoneComponent(_ zone: TimeZone, around date: Date) -> [String] {
        let from = date.addingTimeInterval(-366 * 86_400)
        let until = date.addingTimeInterval(366 * 86_400)
        var lines = ["BEGIN:VTIMEZONE", "TZID:" + zone.identifier]
        func observance(at onset: Date, offsetFrom: Int, offsetTo: Int) {
            let kind = zone.isDaylightSavingTime(for: onset) ? "DAYLIGHT" : "STANDARD"
            lines += [
                "BEGIN:" + kind,
                "DTSTART:" + local(onset, TimeZone(secondsFromGMT: offsetFrom) ?? .gmt),
                "TZOFFSETFROM:" + offset(offsetFrom),
                "TZOFFSETTO:" + offset(offsetTo),
            ]
            if let name = zone.abbreviation(for: onset), name.first?.isLetter == true { lines.append("TZNAME:" + name) }
            lines.append("END:" + kind)
        }
        let initial = zone.secondsFromGMT(for: from)
        observance(at: from, offsetFrom: initial, offsetTo: initial)
        var cursor = from
        while let transition = zone.nextDaylightSavingTimeTransition(after: cursor), transition < until {
            observance(
                at: transition, offsetFrom: zone.secondsFromGMT(for: transition.addingTimeInterval(-1)),
                offsetTo: zone.secondsFromGMT(for: transition))
            cursor = transition
        }
        lines.append("END:VTIMEZONE")
        return lines
    }

    static func utc(_ date: Date) -> String { local(date, .gmt) + "Z" }

    static func local(_ date: Date, _ zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    static func offset(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let minutes = abs(seconds) / 60
        return String(format: "%@%02d%02d", sign, minutes / 60, minutes % 60)
    }

    /// TEXT escaping (§3.3.11): backslash, semicolon, comma, and newlines as `\n`.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "\\": escaped += "\\\\"
            case ";": escaped += "\\;"
            case ",": escaped += "\\,"
            case "\n", "\r\n", "\r": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Lines longer than 75 octets are folded (§3.1), never inside a UTF-8 sequence.
    static func fold(_ line: String) -> String {
        var output = ""
        var width = 0
        for scalar in line.unicodeScalars {
            let size = String(scalar).utf8.count
            if width + size > 75 {
                output += "\r\n "
                width = 1
            }
            output.unicodeScalars.append(scalar)
            width += size
        }
        return output
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }

    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
