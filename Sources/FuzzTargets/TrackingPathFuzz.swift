import BooxiModels
import Foundation
import HummingbirdCore
import TrackingCore

/// Tracking codes wherever they come from: Booxi's `viewURL` (`TrackingCode(viewURL:)`, read from
/// every webhook) and a visitor's request target, split as the API's routes do (`/track/:code`,
/// `/api/tracking/:code/...`, `jobs/:jobId`, the availability query). Input: one URL or request target.
public enum TrackingPathFuzz {
    public static func run(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        if let code = try? TrackingCode(viewURL: text) { check(code) }
        let uri = URI(text)
        let segments = uri.path.split(separator: "/")
        var codeSegment: Substring?
        if segments.count == 2, segments[0] == "track" {
            codeSegment = segments[1]
        } else if segments.count >= 3, segments[0] == "api", segments[1] == "tracking" {
            codeSegment = segments[2]
            if segments.count == 5, segments[3] == "jobs" { _ = UUID(uuidString: String(segments[4])) }
        }
        if let codeSegment {
            TrackingCode(codeSegment).map(check)
            codeSegment.removingPercentEncoding.flatMap(TrackingCode.init).map(check)
        }
        let query = uri.queryParameters
        _ = query["serviceId"].flatMap { Int(String($0)) }
        if let from = query["from"].flatMap({ ISO8601.parse(String($0)) }), let to = query["to"].flatMap({ ISO8601.parse(String($0)) }), from < to {
            _ = to.timeIntervalSince(from)
        }
    }

    /// A code that was accepted reads back as itself, and its log id is 12 hex digits.
    static func check(_ code: TrackingCode) {
        precondition(TrackingCode(code.value) == code, "an accepted code does not read back")
        precondition(code.logID.utf8.count == 12, "log id of the wrong length")
    }
}
