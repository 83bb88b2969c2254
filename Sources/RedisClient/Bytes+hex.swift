extension Sequence<UInt8> {
    /// Lower-case hex, two digits a byte: script SHAs, and digests used in keys and log ids.
    public var hexString: String {
        map { byte in byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }.joined()
    }
}
