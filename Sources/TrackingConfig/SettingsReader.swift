import Configuration
import Foundation
import RedisClient

/// Reads required, validated values from a `ConfigReader`, turning every failure into a
/// ``ConfigurationError`` that names the key. Every key has its default in `config/default.json`,
/// so "missing" means a broken or incomplete configuration file.
public struct SettingsReader: Sendable {
    let reader: ConfigReader

    public init(reader: ConfigReader) {
        self.reader = reader
    }

    public func string(_ key: String) throws -> String {
        do { return try reader.requiredString(forKey: ConfigKey(key)) } catch { throw Self.wrap(error, key) }
    }

    /// A setting with a fixed set of values, parsed once into its enum; the error names the key
    /// and the values allowed.
    public func choice<Choice: RawRepresentable & CaseIterable>(_ key: String, as type: Choice.Type = Choice.self) throws -> Choice
    where Choice.RawValue == String {
        let value = try string(key)
        guard let choice = Choice(rawValue: value) else {
            let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(key: key, reason: "'\(value)' is not one of \(allowed)")
        }
        return choice
    }

    public func int(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        let value: Int
        do { value = try reader.requiredInt(forKey: ConfigKey(key)) } catch { throw Self.wrap(error, key) }
        guard range.contains(value) else {
            throw ConfigurationError(key: key, reason: "\(value) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    public func milliseconds(_ key: String, in range: ClosedRange<Int> = 0...86_400_000) throws -> Duration {
        .milliseconds(try int(key, in: range))
    }

    public func bool(_ key: String) throws -> Bool {
        do { return try reader.requiredBool(forKey: ConfigKey(key)) } catch { throw Self.wrap(error, key) }
    }

    public func stringList(_ key: String) throws -> [String] {
        (reader.stringArray(forKey: ConfigKey(key)) ?? []).filter { !$0.isEmpty }
    }

    /// A secret: never logged by the configuration library's access reporting, and held as a
    /// ``Secret`` from here on.
    public func secret(_ key: String) -> Secret? {
        reader.string(forKey: ConfigKey(key), isSecret: true).flatMap { $0.isEmpty ? nil : Secret($0) }
    }

    public func secretList(_ key: String) -> [Secret] {
        (secret(key)?.revealed ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { Secret($0) }
    }

    private static func wrap(_ error: any Error, _ key: String) -> ConfigurationError {
        if let error = error as? ConfigurationError { return error }
        let text = String(describing: error)
        if text.lowercased().contains("missing") || text.lowercased().contains("not found") {
            return ConfigurationError(key: key, reason: "missing value")
        }
        return ConfigurationError(key: key, reason: "invalid value (\(text))")
    }
}
