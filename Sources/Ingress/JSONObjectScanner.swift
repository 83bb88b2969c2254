import Foundation

/// One pass over a webhook body: checks that it is exactly one JSON text (RFC 8259) whose top level
/// is an object, and finds the raw values of a few top-level members, building nothing else.
///
/// The ingress runs this on every delivery. `JSONDecoder` gave the same answer at 5–7 µs per
/// 400-byte body (it builds a map of the whole document first), a fifth of a bare HTTP request;
/// this scan costs well under a microsecond. The worker still decodes bodies with `JSONDecoder`, so
/// the rules follow it where it is strict: at most 512 levels of nesting, a leading UTF-8 byte
/// order mark is skipped, an escaped surrogate must be a pair, and of repeated member names the
/// first counts. Where `JSONDecoder` is lax and accepts what is not JSON (a trailing comma, `01`,
/// `1.`, `-`), this scan refuses. Callers check UTF-8 first (`String(validating:)`); member values
/// containing escapes are unescaped by `JSONDecoder` (``string(_:)``), which is rare and off the hot path.
public struct JSONObjectScanner: Sendable {
    public enum Failure: Error, Equatable {
        /// Not one JSON text.
        case invalid
        /// Valid JSON whose top level is not an object.
        case notAnObject
    }

    /// `JSONDecoder`'s limit.
    static let maxDepth = 512

    /// The top-level member names whose values ``scan(_:)`` returns, as UTF-8.
    private let wanted: [[UInt8]]

    public init(members names: [String]) {
        wanted = names.map { Array($0.utf8) }
    }

    /// The raw bytes of the values of the wanted top-level members, in the order they were named
    /// (nil where absent), e.g. the quoted string `"booking.confirmed"`, `42` or `{...}`.
    public func scan(_ body: [UInt8]) throws(Failure) -> [ArraySlice<UInt8>?] {
        let (failure, found) = body.withUnsafeBufferPointer { bytes in
            var scan = Scan(bytes: bytes, wanted: wanted)
            return (scan.run(), scan.found)
        }
        if let failure { throw failure }
        return found.map { $0.map { body[$0] } }
    }

    /// The text of a string value as ``scan(_:)`` returns it, nil when the value is not a string.
    public static func string(_ value: ArraySlice<UInt8>) -> String? {
        guard value.first == UInt8(ascii: "\"") else { return nil }
        let inner = value.dropFirst().dropLast()
        guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
        return try? JSONDecoder().decode(String.self, from: Data(value))
    }

    /// The scan's state; a value type over the borrowed bytes, no allocation but the container stack.
    private struct Scan {
        let bytes: UnsafeBufferPointer<UInt8>
        let wanted: [[UInt8]]
        var found: [Range<Int>?]
        var index = 0
        /// Open containers, innermost last: `{` or `[`.
        var open: [UInt8] = []
        /// The wanted member whose value is being read, and where that value began.
        var capturing: (slot: Int, start: Int)?

        init(bytes: UnsafeBufferPointer<UInt8>, wanted: [[UInt8]]) {
            self.bytes = bytes
            self.wanted = wanted
            self.found = Array(repeating: nil, count: wanted.count)
            open.reserveCapacity(16)
        }

        /// nil when the body is a JSON object.
        mutating func run() -> Failure? {
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
            skipWhitespace()
            let isObject = peek == UInt8(ascii: "{")
            guard value() else { return .invalid }
            skipWhitespace()
            guard index == bytes.count else { return .invalid }
            return isObject ? nil : .notAnObject
        }

        private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        private mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
                default: return
                }
            }
        }

        /// One value at `index` (whitespace skipped), containers included, without recursion: the
        /// loop reads a value, then whatever follows it in the innermost open container.
        private mutating func value() -> Bool {
            while true {
                skipWhitespace()
                guard let byte = peek else { return false }
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard open.count < maxDepth else { return false }
                    open.append(byte)
                    index += 1
                    skipWhitespace()
                    if peek == Self.closer(of: byte) {
                        index += 1
                        open.removeLast()
                    } else {
                        // The first member or element: read it as any other.
                        guard byte == UInt8(ascii: "[") || member() else { return false }
                        continue
                    }
                case UInt8(ascii: "\""):
                    guard string() else { return false }
                case UInt8(ascii: "t"): guard literal("true") else { return false }
                case UInt8(ascii: "f"): guard literal("false") else { return false }
                case UInt8(ascii: "n"): guard literal("null") else { return false }
                default: guard number() else { return false }
                }
                // A value ended: close containers that end here, go on with the next element.
                while true {
                    if open.count == 1, let capture = capturing {
                        if found[capture.slot] == nil { found[capture.slot] = capture.start..<index }
                        capturing = nil
                    }
                    skipWhitespace()
                    guard let container = open.last else { return true }
                    guard let next = peek else { return false }
                    index += 1
                    if next == UInt8(ascii: ",") {
                        guard container == UInt8(ascii: "[") || member() else { return false }
                        break
                    }
                    guard next == Self.closer(of: container) else { return false }
                    open.removeLast()
                }
            }
        }

        private static func closer(of container: UInt8) -> UInt8 {
            container == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
        }

        /// `"name" :` inside an object, leaving `index` at the member's value; notes where a wanted
        /// top-level member's value starts.
        private mutating func member() -> Bool {
            skipWhitespace()
            let start = index
            guard peek == UInt8(ascii: "\""), string() else { return false }
            let slot = open.count == 1 ? slot(ofName: start..<index) : nil
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { return false }
            index += 1
            skipWhitespace()
            if let slot { capturing = (slot, index) }
            return true
        }

        private func slot(ofName range: Range<Int>) -> Int? {
            let quoted = UnsafeBufferPointer(rebasing: bytes[range])
            let inner = quoted.dropFirst().dropLast()
            if !inner.contains(UInt8(ascii: "\\")) {
                return wanted.firstIndex { $0.elementsEqual(inner) }
            }
            guard let name = JSONObjectScanner.string(ArraySlice(quoted)) else { return nil }
            return wanted.firstIndex { $0.elementsEqual(name.utf8) }
        }

        /// A string starting at the opening quote: no raw control characters, valid escapes,
        /// escaped surrogates in pairs.
        private mutating func string() -> Bool {
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { return true }
                if byte < 0x20 { return false }
                guard byte == UInt8(ascii: "\\") else { continue }
                guard let escaped = peek else { return false }
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    continue
                case UInt8(ascii: "u"):
                    guard let unit = hexUnit() else { return false }
                    if (0xDC00...0xDFFF).contains(unit) { return false }
                    if (0xD800...0xDBFF).contains(unit) {
                        guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else { return false }
                        index += 2
                        guard let low = hexUnit(), (0xDC00...0xDFFF).contains(low) else { return false }
                    }
                default:
                    return false
                }
            }
            return false
        }

        /// Four hex digits after `\u`.
        private mutating func hexUnit() -> UInt16? {
            guard index + 4 <= bytes.count else { return nil }
            var unit: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                unit = unit << 4 | UInt16(digit)
                index += 1
            }
            return unit
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let word = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard index + word.count <= bytes.count,
                UnsafeBufferPointer(rebasing: bytes[index..<index + word.count]).elementsEqual(word)
            else { return false }
            index += word.count
            return true
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        private mutating func number() -> Bool {
            if peek == UInt8(ascii: "-") { index += 1 }
            guard let first = peek, isDigit(first) else { return false }
            index += 1
            if first != UInt8(ascii: "0") { skipDigits() }
            if peek == UInt8(ascii: ".") {
                index += 1
                guard digits() else { return false }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                index += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
                guard digits() else { return false }
            }
            return true
        }

        /// One or more digits.
        private mutating func digits() -> Bool {
            guard let byte = peek, isDigit(byte) else { return false }
            skipDigits()
            return true
        }

        private mutating func skipDigits() {
            while let byte = peek, isDigit(byte) { index += 1 }
        }

        private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    }
}
