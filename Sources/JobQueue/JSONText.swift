import RedisClient

/// Appends JSON text to a byte buffer, for the few documents on hot paths whose shape is fixed
/// (an envelope per webhook, a tracking view per lookup), where `JSONEncoder`'s reflection costs
/// more than the request. The output is what `JSONEncoder` with `.sortedKeys` and
/// `.withoutEscapingSlashes` writes for the same values (tests compare both).
public struct JSONText {
    public private(set) var bytes: [UInt8] = []
    /// Per open object: whether a member was written (the next one needs a comma).
    private var needsComma: [Bool] = []
    /// A key was just written: the next value is its value, no comma.
    private var afterKey = false

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma.append(false)
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma.removeLast()
    }

    /// A member name; the next value written is its value.
    public mutating func key(_ name: String) {
        separate()
        Self.appendString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ value: String) {
        separate()
        Self.appendString(value, to: &bytes)
    }

    public mutating func integer(_ value: some BinaryInteger) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Writes `name: value` when the value is there, nothing otherwise (as `encodeIfPresent`).
    public mutating func member(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    public mutating func member(_ name: String, _ value: (some BinaryInteger)?) {
        guard let value else { return }
        key(name)
        integer(value)
    }

    public mutating func member(_ name: String, _ value: Bool) {
        key(name)
        bool(value)
    }

    /// A `[String: String]` as an object with sorted member names.
    public mutating func member(_ name: String, _ value: [String: String]?) {
        guard let value else { return }
        key(name)
        beginObject()
        for field in value.keys.sorted() { member(field, value[field]) }
        endObject()
    }

    /// `name: value` where the value is JSON text encoded elsewhere (once, and reused), when it is there.
    public mutating func raw(_ name: String, _ json: [UInt8]?) {
        guard let json else { return }
        key(name)
        separate()
        bytes.append(contentsOf: json)
    }

    /// Before a member: the comma if it is not the object's first; before a key's value: nothing.
    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard let last = needsComma.indices.last else { return }
        if needsComma[last] { bytes.append(UInt8(ascii: ",")) }
        needsComma[last] = true
    }

    /// `"text"` with the escapes JSON requires: quote, backslash and the control characters.
    public static func appendString(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                start = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: "u00".utf8)
                    bytes.append(contentsOf: CollectionOfOne(byte).hexString.utf8)
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
