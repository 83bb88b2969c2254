import Foundation

/// Branding and behaviour of the tracking page at `/track/:code`.
public struct PageSettings: Sendable {
    public enum ModifyMode: String, Sendable, CaseIterable {
        case builtin, widget
    }

    public var businessName: String
    public var logoURL: String
    public var primaryColor: String
    public var supportContact: String
    /// `auto` (from `Accept-Language`, among the languages with a message file) or a language tag
    /// with a message file; checked against the files when the page loads them.
    public var language: String
    /// The appointments' time zone (IANA name) when the store's details do not give one.
    public var timeZone: String
    /// `builtin` (our service/day/slot flow) or `widget` (Booxi's BookNow widget in modify mode).
    public var modifyMode: ModifyMode
    public var widgetScriptURL: String
    /// The merchant's BookNow key (public: every site that embeds the widget shows it), for "Book again".
    public var widgetAPIKey: String
    /// Where "Book again" leads when there is no widget key.
    public var bookingURL: String
    /// A business's message files (`<language>.json`), laid over the shipped ones.
    public var messagesDirectory: String
    /// The shipped message files: `messages/` beside the defaults file.
    public var shippedMessagesDirectory = "config/messages"
    public var venue: VenueSettings

    init(settings s: SettingsReader) throws {
        businessName = try s.string("page.businessName")
        logoURL = try s.string("page.logoUrl")
        primaryColor = try s.string("page.primaryColor")
        guard primaryColor.range(of: "^#[0-9a-fA-F]{6}$", options: .regularExpression) != nil else {
            throw ConfigurationError(key: "page.primaryColor", reason: "must be a colour like #2f5d8a")
        }
        supportContact = try s.string("page.supportContact")
        language = try s.string("page.language")
        guard language == "auto" || language.range(of: "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", options: .regularExpression) != nil else {
            throw ConfigurationError(key: "page.language", reason: "must be 'auto' or a language tag such as 'en' or 'es'")
        }
        timeZone = try s.string("page.timeZone")
        guard TimeZone(identifier: timeZone) != nil else {
            throw ConfigurationError(key: "page.timeZone", reason: "'\(timeZone)' is not an IANA time zone")
        }
        modifyMode = try s.choice("page.modifyMode")
        widgetScriptURL = try s.string("page.widgetScriptUrl")
        guard widgetScriptURL.hasPrefix("https://") || widgetScriptURL.hasPrefix("http://127.0.0.1") || widgetScriptURL.hasPrefix("/") else {
            throw ConfigurationError(key: "page.widgetScriptUrl", reason: "must be an https URL (or a path on this server)")
        }
        if !logoURL.isEmpty && !(logoURL.hasPrefix("https://") || logoURL.hasPrefix("/")) {
            throw ConfigurationError(key: "page.logoUrl", reason: "must be an https URL or a path")
        }
        widgetAPIKey = try s.string("page.widgetApiKey")
        bookingURL = try s.string("page.bookingUrl")
        if !bookingURL.isEmpty && !(bookingURL.hasPrefix("https://") || bookingURL.hasPrefix("http://127.0.0.1") || bookingURL.hasPrefix("/")) {
            throw ConfigurationError(key: "page.bookingUrl", reason: "must be an https URL or a path")
        }
        messagesDirectory = try s.string("page.messagesDir")
        venue = try VenueSettings(settings: s)
    }

    /// `messages/` in the directory of the defaults file (`config/default.json` → `config/messages`).
    public static func shippedMessagesDirectory(besideDefaults defaultsPath: String) -> String {
        let folder = (defaultsPath as NSString).deletingLastPathComponent
        return (folder.isEmpty ? "." : folder) + "/messages"
    }

    /// The origin of an absolute URL (`https://host[:port]`), for the Content-Security-Policy.
    public static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return nil }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}

/// `page.venue.*`: the store's details as the business states them. They fill what Booxi's
/// `GET /merchant/{id}` leaves out, or with `override` they win over it.
public struct VenueSettings: Sendable, Equatable {
    public var name: String
    public var address: String
    public var phone: String
    public var latitude: Double?
    public var longitude: Double?
    public var override: Bool

    init(settings s: SettingsReader) throws {
        name = try s.string("page.venue.name")
        address = try s.string("page.venue.address")
        phone = try s.string("page.venue.phone")
        func coordinate(_ key: String, limit: Double) throws -> Double? {
            let text = try s.string(key)
            if text.isEmpty { return nil }
            guard let value = Double(text), abs(value) <= limit else {
                throw ConfigurationError(key: key, reason: "must be empty or a number between -\(Int(limit)) and \(Int(limit))")
            }
            return value
        }
        latitude = try coordinate("page.venue.latitude", limit: 90)
        longitude = try coordinate("page.venue.longitude", limit: 180)
        override = try s.bool("page.venue.override")
    }

    public init(
        name: String = "", address: String = "", phone: String = "", latitude: Double? = nil, longitude: Double? = nil, override: Bool = false
    ) {
        self.name = name
        self.address = address
        self.phone = phone
        self.latitude = latitude
        self.longitude = longitude
        self.override = override
    }
}
