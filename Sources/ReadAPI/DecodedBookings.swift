import BooxiAPI
import Synchronization

/// Decoded copies of the cached bookings this replica served, so repeated lookups of one booking
/// (a visitor reloading the page, the page polling a command) do not decode the same JSON again.
/// An entry is used only while the bytes in Redis are the very bytes it was decoded from, so a
/// new copy from Booxi or a webhook is picked up at once. Bounded: when `capacity` entries are
/// held, it starts over empty (cheap, and a lookup then simply decodes once more).
final class DecodedBookings: Sendable {
    private let capacity: Int
    private let entries: Mutex<[String: (raw: [UInt8], booking: Booking)]>

    init(capacity: Int) {
        self.capacity = capacity
        entries = Mutex([:])
    }

    var count: Int { entries.withLock { $0.count } }

    /// The booking these bytes hold, or nil when they are not a readable booking.
    func booking(id: String, raw: [UInt8]) -> Booking? {
        if let hit = entries.withLock({ $0[id] }), hit.raw == raw { return hit.booking }
        guard let booking = try? Booking.decode(raw) else { return nil }
        guard capacity > 0 else { return booking }
        entries.withLock { entries in
            if entries.count >= capacity && entries[id] == nil { entries.removeAll(keepingCapacity: true) }
            entries[id] = (raw, booking)
        }
        return booking
    }
}
