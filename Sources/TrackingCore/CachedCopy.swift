import BooxiModels
import Foundation

/// The cached copy of a booking as its record keeps it: only what the page, the API and the
/// calendar file read, each in a field of its own, short enough (64 bytes for the usual values)
/// for Redis' compact listpack encoding of the record. Everything else Booxi sends (e-mail,
/// tracking links, creation dates) is kept nowhere. The client's names go to the record's own
/// `firstName` and `lastName`, which webhooks write too.
public enum CachedCopy {
    /// The field whose presence in a record is the copy's.
    public static let marker = "cItems"

    /// The copy's fields, in the order ``fields(of:)`` writes them. `cItems` is always written: its
    /// presence is the copy's.
    static let names = [
        "cStatus", "cDone", "cPresence", "cStart", "cEnd", "cDuration", "cMerchant", "cStaff", "cStaffName", "cLocation", "cLocationText",
        "cItems",
    ]

    /// Name, value, name, value…: every field of the copy, empty when Booxi gave nothing (the
    /// scripts keep no empty field, and delete one whose value went away), then the client's
    /// names when the booking has them.
    public static func fields(of booking: Booking) -> [String] {
        let span = booking.totalClientTimespan
        let values: [String] = [
            booking.status ?? "", booking.isCompleted.map { $0 ? "1" : "0" } ?? "", booking.client?.presence ?? "",
            span?.start ?? booking.startsOn ?? "", span?.end ?? "", span?.duration.map(String.init) ?? "", booking.merchantId.map(String.init) ?? "",
            booking.staffId.map(String.init) ?? "", booking.staffFirstName ?? "", booking.location ?? "", booking.locationText ?? "",
            items(booking.items ?? []),
        ]
        var fields: [String] = []
        for (name, value) in zip(names, values) { fields += [name, value] }
        if let first = booking.client?.firstName, !first.isEmpty { fields += ["firstName", first] }
        if let last = booking.client?.lastName, !last.isEmpty { fields += ["lastName", last] }
        return fields
    }

    /// The booking as the copy in `fields` (a record's) has it; nil when the record holds none.
    public static func booking(bookingID: String, fields: [String: [UInt8]]) -> Booking? {
        func text(_ name: String) -> String? {
            fields[name].map { String(decoding: $0, as: UTF8.self) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let items = fields["cItems"] else { return nil }
        let start = text("cStart")
        let end = text("cEnd")
        let duration = text("cDuration").flatMap { Int($0) }
        let presence = text("cPresence")
        let (first, last) = (text("firstName"), text("lastName"))
        return Booking(
            bookingId: bookingID, merchantId: text("cMerchant").flatMap { Int($0) }, status: text("cStatus"),
            isCompleted: text("cDone").map { $0 == "1" }, startsOn: start,
            totalClientTimespan: start == nil && end == nil && duration == nil ? nil : .init(start: start, end: end, duration: duration),
            staffId: text("cStaff").flatMap { Int($0) }, staffFirstName: text("cStaffName"), location: text("cLocation"),
            locationText: text("cLocationText"), items: Self.items(items),
            client: presence == nil && first == nil && last == nil
                ? nil : .init(firstName: first, lastName: last, email: nil, presence: presence, trackingPage: nil))
    }

    /// Items as `[[serviceId, duration, "name"], …]`: JSON, compact.
    static func items(_ items: [Booking.Item]) -> String {
        let rows: [[Any]] = items.map { [$0.serviceId ?? NSNull(), $0.duration ?? NSNull(), $0.serviceName ?? NSNull()] }
        let data = (try? JSONSerialization.data(withJSONObject: rows, options: [.withoutEscapingSlashes])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func items(_ bytes: [UInt8]) -> [Booking.Item] {
        guard let rows = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [[Any]] else { return [] }
        return rows.map { row in
            Booking.Item(
                serviceId: row.count > 0 ? row[0] as? Int : nil, serviceName: row.count > 2 ? row[2] as? String : nil,
                duration: row.count > 1 ? row[1] as? Int : nil)
        }
    }
}
