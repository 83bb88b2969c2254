import Foundation
import FuzzTargets
import Testing

/// CI's share of the fuzzing (docs/security.md): every target's seed corpus and every crash a fuzzer
/// ever found (`Tests/FuzzCorpus/<target>/crashes/`) run through the same entry points as the
/// libFuzzer executables, in an ordinary build. A regression traps and fails the run.
@Suite("Fuzz corpora and past crashes replayed")
struct FuzzCorpusTests {
    static let corpusRoot: URL = {
        let root =
            ProcessInfo.processInfo.environment["BXT_PROJECT_ROOT"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("Tests/FuzzCorpus")
    }()

    /// The regular files of a folder, without dotfiles (`.gitkeep`).
    static func inputs(in folder: URL) throws -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { folder.appendingPathComponent($0) }.filter { url in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) && !isFolder.boolValue
        }
    }

    @Test(arguments: FuzzTarget.all)
    func replaysSeedsAndCrashes(target: FuzzTarget) async throws {
        let folder = Self.corpusRoot.appendingPathComponent(target.name)
        let seeds = try Self.inputs(in: folder)
        #expect(seeds.count >= 3, "\(target.name) has no seed corpus")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("crashes").path), "\(target.name) has no crashes folder")
        for input in try seeds + Self.inputs(in: folder.appendingPathComponent("crashes")) {
            await target.check(Array(try Data(contentsOf: input)))
        }
    }

    /// Every corpus folder belongs to a registered target (scripts/fuzz.sh lists the folders).
    @Test func everyCorpusHasATarget() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.corpusRoot.path).filter { !$0.contains(".") }
        #expect(Set(folders) == Set(FuzzTarget.all.map(\.name)))
    }
}
