import Foundation
import TrackingConfig

/// Every string of the tracking page, per language: the shipped files (`config/messages/<lang>.json`)
/// with a business's files from `page.messagesDir` laid over them. A business file may change any
/// string of a shipped language, or add a language (what it leaves out is shown in English). A key
/// the shipped English file does not have is a mistake (a typo would silently change nothing), so
/// loading refuses it and names the file.
struct MessageCatalog: Sendable {
    /// language → key → text.
    let languages: [String: [String: String]]
    /// `page.language`: `auto` or the one language every visitor gets.
    let configured: String
    static let fallback = "en"

    init(settings: PageSettings) throws {
        var languages = try Self.load(directory: settings.shippedMessagesDirectory, what: "the shipped messages")
        guard let english = languages[Self.fallback] else {
            throw ConfigurationError(
                key: "page.messagesDir", reason: "the shipped messages are missing: no en.json in '\(settings.shippedMessagesDirectory)'")
        }
        if !settings.messagesDirectory.isEmpty {
            for (language, overrides) in try Self.load(directory: settings.messagesDirectory, what: "the business's messages") {
                if let unknown = overrides.keys.first(where: { english[$0] == nil }) {
                    throw ConfigurationError(
                        key: "page.messagesDir", reason: "\(language).json has a key the page does not use: '\(unknown)'")
                }
                languages[language] = (languages[language] ?? english).merging(overrides) { _, business in business }
            }
        }
        self.languages = languages
        configured = settings.language
        if settings.language != "auto" && languages[settings.language] == nil {
            throw ConfigurationError(
                key: "page.language", reason: "no message file for '\(settings.language)' (have: \(self.available.joined(separator: ", ")))")
        }
    }

    var available: [String] { languages.keys.sorted() }

    func messages(_ language: String) -> [String: String] {
        languages[language] ?? languages[Self.fallback] ?? [:]
    }

    /// A text with its `{name}` placeholders filled.
    func text(_ key: String, _ language: String, _ values: [String: String] = [:]) -> String {
        var text = messages(language)[key] ?? key
        for (name, value) in values { text = text.replacingOccurrences(of: "{\(name)}", with: value) }
        return text
    }

    /// The language a request gets: `page.language`, or for `auto` the visitor's choice.
    func language(for acceptLanguage: String?) -> String {
        configured == "auto" ? negotiate(acceptLanguage) : configured
    }

    /// The first `Accept-Language` tag with a message file (by full tag, then its primary subtag),
    /// English otherwise. Only the first 32 tags count: browsers send a handful, and a header of
    /// thousands would otherwise be sorted on every page view.
    func negotiate(_ acceptLanguage: String?) -> String {
        let tags = (acceptLanguage ?? "").split(separator: ",").prefix(32).compactMap { part -> (tag: String, quality: Double)? in
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first?.lowercased(), !tag.isEmpty else { return nil }
            let quality = pieces.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return (tag, quality)
        }
        for (tag, quality) in tags.enumerated().sorted(by: { ($0.element.quality, -$0.offset) > ($1.element.quality, -$1.offset) }).map(\.element)
        where quality > 0 {
            if languages[tag] != nil { return tag }
            if let primary = tag.split(separator: "-").first.map(String.init), languages[primary] != nil { return primary }
        }
        return Self.fallback
    }

    private static func load(directory: String, what: String) throws -> [String: [String: String]] {
        let files: [String]
        do { files = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw ConfigurationError(key: "page.messagesDir", reason: "cannot read \(what): no directory '\(directory)'")
        }
        var languages: [String: [String: String]] = [:]
        for file in files where file.hasSuffix(".json") {
            let language = String(file.dropLast(5))
            let path = directory + "/" + file
            guard let data = FileManager.default.contents(atPath: path),
                let texts = try? JSONDecoder().decode([String: String].self, from: data)
            else { throw ConfigurationError(key: "page.messagesDir", reason: "\(what): '\(path)' is not a JSON object of strings") }
            languages[language] = texts
        }
        return languages
    }
}
