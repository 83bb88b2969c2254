import Foundation
import TrackingCore

/// How an operator names a booking: by tracking code, by Booxi booking id, or by text typed into
/// one search box that may be either. ``OperationsStore/resolve(_:)`` is the one place that turns
/// it into a booking id, for the console, the CLI, the timeline and erase alike.
public enum BookingReference: Sendable, Equatable {
    case code(String)
    /// An explicit booking id names itself, record or not: an erase must still reach the jobs
    /// and dead letters of a booking whose record has expired or was never written.
    case bookingID(String)
    case codeOrBookingID(String)
}

/// What a ``BookingReference`` named.
public enum BookingResolution: Sendable, Equatable {
    case found(bookingID: String, by: FoundBy)
    case notFound
    /// The text is a code of one booking and the id of another: the caller asks which is meant.
    case ambiguous(byCode: String, byBookingID: String)

    public enum FoundBy: String, Sendable, Codable {
        case code, booking
    }
}

extension OperationsStore {
    /// The booking `reference` names. A code is looked up only when it has a code's shape, so a
    /// malformed one never touches Redis; a typed text is a booking id when the booking has a
    /// record or a timeline.
    public func resolve(_ reference: BookingReference) async throws -> BookingResolution {
        switch reference {
        case .bookingID(let id):
            let id = id.trimmingCharacters(in: .whitespaces)
            return id.isEmpty ? .notFound : .found(bookingID: id, by: .booking)
        case .code(let text):
            return try await bookingID(byCode: text).map { .found(bookingID: $0, by: .code) } ?? .notFound
        case .codeOrBookingID(let text):
            let text = text.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { return .notFound }
            let byCode = try await bookingID(byCode: text)
            var isBooking = try await mappings.record(bookingID: text) != nil
            if !isBooking { isBooking = try await !timeline.read(bookingID: text, using: redis).isEmpty }
            switch (byCode, isBooking) {
            case (let byCode?, true) where byCode != text: return .ambiguous(byCode: byCode, byBookingID: text)
            case (let byCode?, _): return .found(bookingID: byCode, by: .code)
            case (nil, true): return .found(bookingID: text, by: .booking)
            case (nil, false): return .notFound
            }
        }
    }

    private func bookingID(byCode text: String) async throws -> String? {
        guard let code = TrackingCode(text.trimmingCharacters(in: .whitespaces)) else { return nil }
        return try await mappings.resolve(code)?.bookingID
    }
}
