/// The Redis Cluster hash slot of a key: CRC16 (XMODEM) of the key, or of its hash tag (the part
/// between the first `{` and the next `}` when not empty), modulo 16384, as Cluster computes it.
///
/// Every script's keys must share a slot (docs/scaling.md); debug builds check each script call
/// (``RedisPipeline/append(_:keys:arguments:)``), and `ClusterSlotTests` checks the function
/// against Redis' own `CLUSTER KEYSLOT`.
public enum ClusterSlot {
    /// Slots in a Redis Cluster.
    public static let count = 16_384

    public static func of(_ key: some Collection<UInt8>) -> Int {
        let bytes = Array(key)
        return Int(crc16(hashTag(of: bytes) ?? bytes[...]) & 16383)
    }

    public static func of(_ key: String) -> Int { of(Array(key.utf8)) }

    /// The part between the first `{` and the next `}`, when not empty: what a key's slot is
    /// computed from. Nil when the key has none (its whole self is hashed).
    public static func hashTag(of bytes: [UInt8]) -> ArraySlice<UInt8>? {
        guard let open = bytes.firstIndex(of: UInt8(ascii: "{")),
            let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        else { return nil }
        return bytes[(open + 1)..<close]
    }

    /// CRC16 (XMODEM), the checksum Cluster's slots are made of.
    public static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        }
        return crc
    }
}
