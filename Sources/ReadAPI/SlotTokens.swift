import BooxiModels
import Crypto
import Foundation

/// Opaque slot tokens (docs/architecture.md §7): the availability answer names each slot by a token instead of
/// Booxi's staff id, and a modify names the slot by that token. A token is the slot (start,
/// service, staff), the booking it was offered to and an expiry, sealed with ChaCha20-Poly1305
/// under a key derived from a server secret: the Poly1305 tag signs it (a forged or altered token
/// does not open) and the encryption keeps the staff id and booking id unreadable, which an
/// HMAC over a readable payload would not.
struct SlotTokens: Sendable {
    struct Slot: Codable, Equatable {
        /// The booking it was offered to.
        var booking: String
        var start: String
        var serviceID: Int
        var staffID: Int?
        /// Seconds since 1970.
        var expires: Int64

        enum CodingKeys: String, CodingKey {
            case booking = "b", start = "s", serviceID = "v", staffID = "f", expires = "e"
        }
    }

    enum Refusal: Error, Equatable {
        case invalid, expired, otherBooking

        /// The `code` of the 400 answer.
        var code: String {
            switch self {
            case .invalid: "invalid_slot"
            case .expired: "slot_expired"
            case .otherBooking: "invalid_slot"
            }
        }

        var message: String {
            switch self {
            case .invalid, .otherBooking: "this time slot is not valid for this booking; choose a slot again"
            case .expired: "this time slot offer has expired; choose a slot again"
            }
        }
    }

    private let key: SymmetricKey
    let lifetime: Duration

    init(secret: String, lifetime: Duration) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data("booxi-tracking slot token v1".utf8), outputByteCount: 32)
        self.lifetime = lifetime
    }

    func issue(bookingID: String, slot: AvailabilitySlot, serviceID: Int, now: Date = Date()) throws -> String {
        let sealed = Slot(
            booking: bookingID, start: slot.start, serviceID: slot.serviceId ?? serviceID, staffID: slot.staffId,
            expires: Int64(now.timeIntervalSince1970) + lifetime.components.seconds)
        let box = try ChaChaPoly.seal(try JSONEncoder().encode(sealed), using: key)
        return Self.base64URL(box.combined)
    }

    func open(_ token: String, bookingID: String, now: Date = Date()) throws(Refusal) -> Slot {
        guard token.count <= 1_024, let bytes = Self.data(base64URL: token),
            let box = try? ChaChaPoly.SealedBox(combined: bytes), let plain = try? ChaChaPoly.open(box, using: key),
            let slot = try? JSONDecoder().decode(Slot.self, from: plain)
        else { throw .invalid }
        guard slot.booking == bookingID else { throw .otherBooking }
        guard slot.expires > Int64(now.timeIntervalSince1970) else { throw .expired }
        return slot
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func data(base64URL text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
