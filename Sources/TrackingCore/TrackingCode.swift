import Crypto
import RedisClient
import Foundation

/// A tracking code: the bearer secret in `https://book.booxi.com/tracking/CODE` and in our page's
/// `/track/CODE`. Its shape is checked before anything touches Redis, and it is never logged:
/// ``logID`` is a short hash for correlating log lines.
public struct TrackingCode: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    public static let allowedLength = 4...128

    /// Nil unless `text` is 4 to 128 URL-safe characters (letters, digits, `-`, `_`).
    public init?(_ text: some StringProtocol) {
        guard Self.allowedLength.contains(text.utf8.count),
            text.utf8.allSatisfy({ byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x5F
            })
        else { return nil }
        value = String(text)
    }

    /// The code in a Booxi tracking page URL: `https://<host>.booxi.com|eu/tracking/CODE`, nothing
    /// else accepted (another host, scheme, extra path segments or a bad code).
    public init(viewURL: String) throws(TrackingCodeError) {
        guard let components = URLComponents(string: viewURL), let host = components.host?.lowercased() else {
            throw .notAURL
        }
        guard components.scheme?.lowercased() == "https" else { throw .wrongScheme }
        guard Self.isBooxiHost(host) else { throw .wrongHost }
        let segments = components.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        guard segments.count == 2, segments.first == "tracking" else { throw .wrongPath }
        guard let code = TrackingCode(segments.last!) else { throw .badCode }
        self = code
    }

    static func isBooxiHost(_ host: String) -> Bool {
        ["booxi.com", "booxi.eu"].contains { domain in host == domain || host.hasSuffix("." + domain) }
    }

    /// First 12 hex digits of the code's SHA-256, for logs.
    public var logID: String {
        SHA256.hash(data: Array(value.utf8)).prefix(6).hexString
    }

    public var description: String { "TrackingCode(\(logID))" }
}

public enum TrackingCodeError: Error, Equatable, CustomStringConvertible {
    case notAURL, wrongScheme, wrongHost, wrongPath, badCode

    public var description: String {
        switch self {
        case .notAURL: "viewURL is not a URL"
        case .wrongScheme: "viewURL is not https"
        case .wrongHost: "viewURL host is not a Booxi host"
        case .wrongPath: "viewURL path is not /tracking/CODE"
        case .badCode: "tracking code has a bad shape (4-128 characters A-Z a-z 0-9 - _)"
        }
    }
}
