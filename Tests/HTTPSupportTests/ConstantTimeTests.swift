import HTTPSupport
import Testing

@Suite("Constant-time comparison of presented secrets")
struct ConstantTimeTests {
    @Test func equalOnlyWhenEveryByteAndTheLengthMatch() {
        #expect(ConstantTime.equal(Array("abc".utf8), Array("abc".utf8)))
        #expect(!ConstantTime.equal(Array("abc".utf8), Array("abd".utf8)))
        #expect(!ConstantTime.equal(Array("abc".utf8), Array("abcd".utf8)))
        #expect(ConstantTime.equal([], []))
    }
}
