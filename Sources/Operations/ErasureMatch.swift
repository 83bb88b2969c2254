import Foundation
import JobQueue
import TrackingCore

/// Which queued jobs belong to a booking being erased. A job is the booking's when the booking id
/// or a tracking code parsed from it is the booking's: a webhook's `booking.confirmationNumber` and
/// `trackingPage.viewURL`, a command's `bookingID` and `code`. Never a substring: an id like `1`
/// is in nearly every job's timestamps and ids.
///
/// Bytes that do not parse that far (a dead letter too malformed to decode, an unreadable job, a
/// webhook body that is not JSON) may still hold personal data. They are the booking's when they
/// hold its id or one of its codes as a whole token: bounded by the ends or by bytes that are not
/// ASCII letters or digits. Only needles of at least ``minimumTokenLength`` characters take part:
/// a shorter one (`1`) would match the counters and times of any JSON.
struct ErasureMatch: Sendable {
    let bookingID: String
    let codes: Set<String>
    let tokens: [[UInt8]]

    static let minimumTokenLength = 4

    init(bookingID: String, codes: [String]) {
        self.bookingID = bookingID
        self.codes = Set(codes)
        tokens = ([bookingID] + codes).filter { $0.utf8.count >= Self.minimumTokenLength }.map { Array($0.utf8) }
    }

    /// Whether this entry of a waiting, processing or delayed list (a job envelope), or of the
    /// dead list (`deadLetter`), is the booking's.
    func matches(_ bytes: [UInt8], deadLetter: Bool) -> Bool {
        let envelope =
            deadLetter
            ? (try? JSONDecoder().decode(DeadLetter.self, from: Data(bytes)))?.job
            : try? JobEnvelope.decode(bytes)
        guard let envelope else { return holdsToken(bytes) }
        guard let subject = Self.subject(of: envelope) else { return holdsToken(Array(envelope.payload.utf8)) }
        return subject.bookingID == bookingID || subject.code.map(codes.contains) == true
    }

    /// The booking id and code a job names, or nil when its payload does not parse that far.
    static func subject(of envelope: JobEnvelope) -> (bookingID: String?, code: String?)? {
        switch envelope.kind {
        case .webhook:
            guard let object = try? JSONSerialization.jsonObject(with: Data(envelope.payload.utf8)),
                let booking = (object as? [String: Any])?["booking"] as? [String: Any]
            else { return nil }
            let bookingID = booking["confirmationNumber"] as? String
            let page = (booking["client"] as? [String: Any])?["trackingPage"] as? [String: Any]
            let code = (page?["viewURL"] as? String).flatMap { try? TrackingCode(viewURL: $0).value }
            return bookingID == nil && code == nil ? nil : (bookingID, code)
        case .cancel, .modify:
            return (try? JSONDecoder().decode(CommandJob.self, from: Data(envelope.payload.utf8))).map { ($0.bookingID, $0.code) }
        case .unreadable:
            return nil
        }
    }

    /// Whether one of the needles occurs in `bytes` as a whole token.
    func holdsToken(_ bytes: [UInt8]) -> Bool {
        tokens.contains { token in
            var start = 0
            while start + token.count <= bytes.count {
                if bytes[start] == token[0], bytes[start..<(start + token.count)].elementsEqual(token),
                    start == 0 || !Self.isAlphanumeric(bytes[start - 1]),
                    start + token.count == bytes.count || !Self.isAlphanumeric(bytes[start + token.count])
                {
                    return true
                }
                start += 1
            }
            return false
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}
