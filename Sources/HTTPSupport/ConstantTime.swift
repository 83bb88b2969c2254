/// Compares secrets a request presents (a CSRF token, a signature) without an early exit, so the
/// time taken does not tell how many leading bytes matched. The one home of this comparison for
/// every role.
public enum ConstantTime {
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
