import Foundation
import FuzzTargets

// One libFuzzer executable for every target, chosen by `BXT_FUZZ_TARGET` (scripts/fuzz.sh sets it).
// SwiftPM links an executable's own entry point as `main` (`--defsym main=Fuzz_main`), which wins
// over libFuzzer's, so this program starts libFuzzer's driver itself; libFuzzer's `main` is still
// linked in and needs `LLVMFuzzerTestOneInput` to exist.

@_cdecl("LLVMFuzzerTestOneInput")
func testOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    FuzzTarget.fromEnvironment?.run(Array(UnsafeBufferPointer(start: data, count: count)))
    return 0
}

/// `int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size))`,
/// declared by hand: libFuzzer ships no module map, and these plain C types pass unchanged.
@_silgen_name("LLVMFuzzerRunDriver")
func runLibFuzzer(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

guard FuzzTarget.fromEnvironment != nil else {
    FileHandle.standardError.write(Data("set BXT_FUZZ_TARGET to one of: \(FuzzTarget.all.map(\.name).joined(separator: ", "))\n".utf8))
    exit(2)
}
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runLibFuzzer(&argc, &argv, testOneInput))
