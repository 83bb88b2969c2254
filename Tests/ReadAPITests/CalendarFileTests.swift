import BooxiModels
import Foundation
@testable import ReadAPI
import Testing
@testable import TrackingCore

@Suite("Calendar file: RFC 5545 text, folding, escaping, time zones")
struct CalendarFileTests {
    static func file(zone: String, start: String = "2030-03-10T15:00:00Z", state: BookingState = .confirmed) -> CalendarFile {
        CalendarFile(
            uid: "abc@booxi-tracking", sequence: 7, stamp: ISO8601.parse("2030-01-01T00:00:00Z")!, start: ISO8601.parse(start)!,
            end: ISO8601.parse(start)!.addingTimeInterval(1800), timeZone: TimeZone(identifier: zone)!,
            summary: "Coupe; barbe, \"soin\" \\ spa", location: "1 Main St, Montréal", latitude: 45.5, longitude: -73.5,
            description: "Gérer: https://track.example.com/track/" + String(repeating: "x", count: 80), url: nil, state: state)
    }

    @Test func linesAreFoldedAt75OctetsWithoutSplittingACharacter() {
        let folded = CalendarFile.fold("DESCRIPTION:" + String(repeating: "é", count: 60))
        for line in folded.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 75)
        }
        #expect(folded.replacingOccurrences(of: "\r\n ", with: "") == "DESCRIPTION:" + String(repeating: "é", count: 60))
    }

    @Test func textIsEscaped() {
        #expect(CalendarFile.escape("a;b,c\\d\ne") == "a\\;b\\,c\\\\d\\ne")
    }

    @Test func aZoneWithDaylightTimeGetsItsTransitionsAndALocalStart() {
        let text = Self.file(zone: "America/Toronto").text
        #expect(text.contains("DTSTART;TZID=America/Toronto:20300310T110000"))  // 15:00Z is 11:00 EDT (DST began that morning)
        #expect(text.contains("BEGIN:VTIMEZONE\r\nTZID:America/Toronto"))
        #expect(text.contains("BEGIN:DAYLIGHT") && text.contains("TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400"))
        #expect(text.contains("BEGIN:STANDARD") && text.contains("TZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500"))
        #expect(text.contains("SEQUENCE:7\r\n") && text.contains("STATUS:CONFIRMED\r\n") && text.contains("GEO:45.500000;-73.500000"))
        #expect(text.contains("SUMMARY:Coupe\\; barbe\\, \"soin\" \\\\ spa"))
        #expect(text.hasSuffix("END:VEVENT\r\nEND:VCALENDAR\r\n"))
    }

    @Test func utcTimesNeedNoTimeZoneComponent() {
        let text = Self.file(zone: "UTC").text
        #expect(text.contains("DTSTART:20300310T150000Z") && !text.contains("VTIMEZONE"))
    }

    @Test func statusFollowsTheState() {
        #expect(Self.file(zone: "UTC", state: .cancelled).text.contains("STATUS:CANCELLED"))
        #expect(Self.file(zone: "UTC", state: .pendingStaffApproval).text.contains("STATUS:TENTATIVE"))
    }
}
