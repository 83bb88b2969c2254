import Foundation

/// A store as `GET /merchant/{merchantId}` returns it (flat, or wrapped as `{"merchant": {...}}`):
/// where the visitor goes, and the time zone its appointments are kept in. Decoding is tolerant:
/// every field is optional, and the address may be one line or Booxi's structured form.
public struct Merchant: Codable, Sendable, Equatable {
    public var id: Int?
    public var name: String?
    public var address: String?
    public var timeZone: String?
    public var latitude: Double?
    public var longitude: Double?
    public var phoneNumber: String?
    public var profileImageUrl: String?

    public init(
        id: Int? = nil, name: String? = nil, address: String? = nil, timeZone: String? = nil, latitude: Double? = nil,
        longitude: Double? = nil, phoneNumber: String? = nil, profileImageUrl: String? = nil
    ) {
        self.id = id
        self.name = name
        self.address = address
        self.timeZone = timeZone
        self.latitude = latitude
        self.longitude = longitude
        self.phoneNumber = phoneNumber
        self.profileImageUrl = profileImageUrl
    }

    private enum Keys: String, CodingKey {
        case id, name, address, timeZone, latitude, longitude, phoneNumber, profileImageUrl
    }

    /// The structured address: its parts joined in reading order, empty parts left out.
    private struct AddressParts: Decodable {
        var street: String?
        var address1: String?
        var address2: String?
        var city: String?
        var state: String?
        var province: String?
        var zipCode: String?
        var postalCode: String?
        var country: String?

        var line: String {
            let locality = [city, state ?? province, zipCode ?? postalCode].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
            return [street ?? address1, address2, locality, country].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        id = try? container.decodeIfPresent(Int.self, forKey: .id)
        name = try? container.decodeIfPresent(String.self, forKey: .name)
        if let line = try? container.decodeIfPresent(String.self, forKey: .address) {
            address = line
        } else {
            address = (try? container.decodeIfPresent(AddressParts.self, forKey: .address))?.line
        }
        timeZone = try? container.decodeIfPresent(String.self, forKey: .timeZone)
        latitude = Self.number(container, .latitude)
        longitude = Self.number(container, .longitude)
        phoneNumber = try? container.decodeIfPresent(String.self, forKey: .phoneNumber)
        profileImageUrl = try? container.decodeIfPresent(String.self, forKey: .profileImageUrl)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeIfPresent(id, forKey: .id)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(address, forKey: .address)
        try container.encodeIfPresent(timeZone, forKey: .timeZone)
        try container.encodeIfPresent(latitude, forKey: .latitude)
        try container.encodeIfPresent(longitude, forKey: .longitude)
        try container.encodeIfPresent(phoneNumber, forKey: .phoneNumber)
        try container.encodeIfPresent(profileImageUrl, forKey: .profileImageUrl)
    }

    /// Coordinates come as numbers or as numeric strings.
    private static func number(_ container: KeyedDecodingContainer<Keys>, _ key: Keys) -> Double? {
        if let value = try? container.decodeIfPresent(Double.self, forKey: key) { return value }
        return (try? container.decodeIfPresent(String.self, forKey: key)).flatMap { $0.flatMap(Double.init) }
    }

    /// Decodes the flat and the wrapped form.
    public static func decode(_ bytes: [UInt8]) throws -> Merchant {
        struct Wrapped: Decodable { var merchant: Merchant }
        if let wrapped = try? JSONDecoder().decode(Wrapped.self, from: Data(bytes)) { return wrapped.merchant }
        return try JSONDecoder().decode(Merchant.self, from: Data(bytes))
    }
}
