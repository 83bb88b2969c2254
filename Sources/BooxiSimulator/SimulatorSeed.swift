import BooxiModels
import Foundation

/// What the simulator starts with, read from a JSON file (`simulator.seedFile`, by default
/// `config/simulator-seed.json`): services with durations, staff, and bookings placed relative to
/// today so a demo never shows a past appointment.
public struct SimulatorSeed: Codable, Sendable {
    public struct SeedBooking: Codable, Sendable {
        var bookingId: String
        var serviceId: Int
        var staffId: Int
        var daysFromNow: Int
        var hourUTC: Int
        var firstName: String
        var lastName: String
        var email: String
        var trackingCode: String
    }

    /// A store in the shape `GET /merchant/{id}` answers, with Booxi's structured address.
    public struct SeedMerchant: Codable, Sendable {
        public struct Address: Codable, Sendable {
            var street: String?
            var city: String?
            var state: String?
            var zipCode: String?
            var country: String?
        }

        var id: Int
        var name: String
        var address: Address?
        var timeZone: String?
        var latitude: Double?
        var longitude: Double?
        var phoneNumber: String?
        var profileImageUrl: String?
    }

    public var services: [BooxiService]
    public var staff: [Int]
    public var bookings: [SeedBooking]
    /// Stores; every booking the simulator creates belongs to the first (its id is 1002 when none).
    public var merchants: [SeedMerchant]?

    public static func load(path: String) throws -> SimulatorSeed {
        do {
            return try JSONDecoder().decode(SimulatorSeed.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw SeedError.unreadable(path: path, reason: "\(error)")
        }
    }

    public enum SeedError: Error, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "simulator seed file '\(path)' is unreadable: \(reason)"
            }
        }
    }
}
