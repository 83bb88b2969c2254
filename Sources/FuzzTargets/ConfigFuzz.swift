import Dispatch
import Foundation
import TrackingConfig

/// The configuration loader (`AppConfiguration.load`) over the repository's `config/default.json`,
/// with an environment and a `--config` JSON file taken from the input: every value type, range,
/// URL, list and secret the loader validates.
///
/// Input: `NAME=VALUE` lines, then a line `---`, then the JSON override file (none when empty).
/// Only the variables the configuration reads are passed; `*_FILE` and `BXT_DEFAULTS_FILE` are
/// dropped, since reading arbitrary files (`/dev/zero`) would test the fuzzer, not the loader.
public enum ConfigFuzz {
    /// `BXT_*` for every documented key, and the secrets' own names.
    static let variables = Set(ConfigurationReference.keys.map { EnvironmentName.of($0.key) } + Secrets.sources.map(\.environment))

    /// The repository's defaults, found from this file, or from `BXT_PROJECT_ROOT`.
    static let defaultsFile: String = {
        if let root = ProcessInfo.processInfo.environment["BXT_PROJECT_ROOT"] { return root + "/config/default.json" }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/default.json").path
    }()

    /// One file per process, written for each input that has one and removed after it.
    static let overrideFile = FileManager.default.temporaryDirectory.appendingPathComponent(
        "bxt-fuzz-config-\(ProcessInfo.processInfo.processIdentifier).json"
    ).path

    /// For libFuzzer's synchronous callback: waits for ``check(_:)`` on another thread.
    public static func run(_ data: [UInt8]) {
        let done = DispatchSemaphore(value: 0)
        Task {
            await check(data)
            done.signal()
        }
        done.wait()
    }

    /// Loads the configuration the input describes; any thrown error is a correct answer.
    public static func check(_ data: [UInt8]) async {
        let separator = Array("\n---\n".utf8)
        let cut = data.firstRange(of: separator)
        let environmentPart = cut.map { data[..<$0.lowerBound] } ?? data[...]
        var environment = ["BXT_DEFAULTS_FILE": defaultsFile]
        for line in environmentPart.split(separator: 0x0A) {
            let text = String(decoding: line, as: UTF8.self)
            guard let equals = text.firstIndex(of: "="), variables.contains(String(text[..<equals])) else { continue }
            environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        var override: String?
        if let cut, cut.upperBound < data.count {
            guard FileManager.default.createFile(atPath: overrideFile, contents: Data(data[cut.upperBound...])) else { return }
            override = overrideFile
        }
        defer { if override != nil { try? FileManager.default.removeItem(atPath: overrideFile) } }
        _ = try? await AppConfiguration.load(overrideFile: override, environment: environment)
    }
}
