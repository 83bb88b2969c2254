import BooxiModels
import Foundation
import JobQueue
import TrackingConfig

/// Where the appointment takes place and the time zone it is kept in: Booxi's store details with
/// `page.venue.*` filling the gaps (or, with `override`, winning), and `page.timeZone` when the
/// store names no zone. Built once per store and kept by ``VenueDirectory``.
struct Venue: Sendable, Equatable, Encodable {
    var name: String?
    var address: String?
    var phone: String?
    var latitude: Double?
    var longitude: Double?
    /// A plain maps link (no embedded map: the CSP allows no third-party frame).
    var directionsUrl: String?
    /// IANA name; not part of the venue's JSON (the view carries it for every location).
    var timeZone: String

    private enum CodingKeys: String, CodingKey {
        case name, address, phone, latitude, longitude, directionsUrl
    }

    init(merchant: Merchant?, settings: VenueSettings, defaultTimeZone: String) {
        func pick<T>(_ booxi: T?, _ local: T?) -> T? { settings.override ? (local ?? booxi) : (booxi ?? local) }
        func text(_ value: String?) -> String? { value.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } }
        name = pick(text(merchant?.name), text(settings.name))
        address = pick(text(merchant?.address), text(settings.address))
        phone = pick(text(merchant?.phoneNumber), text(settings.phone))
        let booxiHasCoordinates = merchant?.latitude != nil && merchant?.longitude != nil
        let localHasCoordinates = settings.latitude != nil && settings.longitude != nil
        let useLocal = localHasCoordinates && (settings.override || !booxiHasCoordinates)
        latitude = useLocal ? settings.latitude : merchant?.latitude
        longitude = useLocal ? settings.longitude : merchant?.longitude
        timeZone = merchant?.timeZone.flatMap { TimeZone(identifier: $0) != nil ? $0 : nil } ?? defaultTimeZone
        directionsUrl = Self.directions(latitude: latitude, longitude: longitude, address: address)
    }

    var isEmpty: Bool { name == nil && address == nil && phone == nil && latitude == nil }

    /// Google Maps' documented universal link (`maps/dir/?api=1&destination=`), which phones open
    /// in their maps app: coordinates when known, else the address.
    static func directions(latitude: Double?, longitude: Double?, address: String?) -> String? {
        let destination: String
        if let latitude, let longitude {
            destination = "\(latitude),\(longitude)"
        } else if let address {
            destination = address
        } else {
            return nil
        }
        var components = URLComponents(string: "https://www.google.com/maps/dir/")!
        components.queryItems = [URLQueryItem(name: "api", value: "1"), URLQueryItem(name: "destination", value: destination)]
        return components.percentEncodedQuery.map { "https://www.google.com/maps/dir/?" + $0.replacingOccurrences(of: "+", with: "%2B") }
    }

    /// The venue as the view's `venue` member, encoded once (sorted keys, slashes unescaped).
    func json() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data("{}".utf8))
    }
}
