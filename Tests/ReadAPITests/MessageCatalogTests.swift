import Foundation
@testable import ReadAPI
import TestSupport
import Testing
import TrackingConfig

@Suite("Messages: shipped languages, a business's overrides and additions, Accept-Language")
struct MessageCatalogTests {
    static func catalog(_ files: [String: String] = [:], language: String = "auto") async throws -> MessageCatalog {
        var environment = ["BXT_PAGE_LANGUAGE": language]
        if !files.isEmpty {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("messages-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
            environment["BXT_PAGE_MESSAGES_DIR"] = folder.path
        }
        return try MessageCatalog(settings: try await testConfiguration(redis: nil, environment).page)
    }

    @Test func negotiatesAmongTheLanguagesWithFiles() async throws {
        let catalog = try await Self.catalog()
        #expect(catalog.available == ["en", "es", "fr"])
        #expect(catalog.negotiate("es-MX,es;q=0.9,en;q=0.8") == "es")
        #expect(catalog.negotiate("de-DE, fr;q=0.5, en;q=0.7") == "en")
        #expect(catalog.negotiate("fr;q=0, de") == "en")
        #expect(catalog.text("greeting", "fr", ["name": "Zoë"]) == "Bonjour Zoë, voici votre rendez-vous")
    }

    @Test func aBusinessOverridesAStringAndAddsALanguage() async throws {
        let catalog = try await Self.catalog(["en.json": #"{"cancel": "Cancel my visit"}"#, "de.json": #"{"cancel": "Termin absagen"}"#])
        #expect(catalog.text("cancel", "en") == "Cancel my visit" && catalog.text("modify", "en") == "Change appointment")
        #expect(catalog.text("cancel", "de") == "Termin absagen" && catalog.text("modify", "de") == "Change appointment")
        #expect(catalog.negotiate("de-AT") == "de")
    }

    @Test func mistakesAreConfigurationErrorsThatSayWhat() async throws {
        await #expect(throws: ConfigurationError.self) { try await Self.catalog(["en.json": #"{"cancle": "typo"}"#]) }
        await #expect(throws: ConfigurationError.self) { try await Self.catalog(["en.json": "not json"]) }
        await #expect(throws: ConfigurationError.self) { try await Self.catalog(language: "it") }
        do { _ = try await Self.catalog(["en.json": #"{"cancle": "typo"}"#]) } catch let error as ConfigurationError {
            #expect(error.key == "page.messagesDir" && error.reason.contains("'cancle'"))
        }
    }
}
