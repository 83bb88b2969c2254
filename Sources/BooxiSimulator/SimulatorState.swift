import BooxiModels
import Foundation

/// The simulator's bookings, services and staff, in memory. Modifications follow Booxi's rules as
/// far as we know them: no change to cancelled, completed or past bookings, start in the future,
/// known service, staff free at that time; a modification issues a new tracking code.
actor SimulatorState {
    private(set) var bookings: [String: Booking]
    let services: [BooxiService]
    let staff: [Int]
    let merchants: [Int: SimulatorSeed.SeedMerchant]
    /// The store new bookings belong to.
    let merchantID: Int
    private var nextNumber = 6501

    init(seed: SimulatorSeed) {
        services = seed.services
        staff = seed.staff.isEmpty ? [42] : seed.staff
        merchants = Dictionary((seed.merchants ?? []).map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let merchantID = seed.merchants?.first?.id ?? 1002
        self.merchantID = merchantID
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var seeded: [String: Booking] = [:]
        for entry in seed.bookings {
            guard let service = seed.services.first(where: { $0.id == entry.serviceId }) else { continue }
            let day = calendar.startOfDay(for: Date().addingTimeInterval(Double(entry.daysFromNow) * 86_400))
            var booking = Self.makeBooking(
                id: entry.bookingId, merchantID: merchantID, service: service, startsOn: day.addingTimeInterval(Double(entry.hourUTC) * 3600),
                staffID: entry.staffId,
                client: .init(
                    firstName: entry.firstName, lastName: entry.lastName, email: entry.email, presence: "Expecting",
                    trackingPage: .init(viewURL: "https://book.booxi.com/tracking/" + entry.trackingCode)))
            booking.createdOn = ISO8601.format(Date())
            seeded[booking.bookingId] = booking
        }
        bookings = seeded
    }

    func booking(_ id: String) -> Booking? { bookings[id] }

    func insert(_ booking: Booking) { bookings[booking.bookingId] = booking }

    func merchant(_ id: Int) -> SimulatorSeed.SeedMerchant? { merchants[id] }

    /// Creates a booking; the id follows Booxi's `A0000nnnn` shape.
    func create(serviceID: Int, startsOn: Date, staffID: Int?, firstName: String, lastName: String, email: String) throws(SimulatorRefusal) -> Booking
    {
        guard let service = services.first(where: { $0.id == serviceID }) else { throw .invalid("unknown service \(serviceID)") }
        let staffID = staffID ?? staff.first { isFree($0, from: startsOn, minutes: service.duration ?? 30, except: nil) } ?? staff[0]
        let id = String(format: "A%08d", nextNumber)
        nextNumber += 1
        let booking = Self.makeBooking(
            id: id, merchantID: merchantID, service: service, startsOn: startsOn, staffID: staffID,
            client: .init(
                firstName: firstName, lastName: lastName, email: email, presence: "Expecting",
                trackingPage: .init(viewURL: Self.newViewURL())))
        bookings[id] = booking
        return booking
    }

    func cancel(_ id: String) throws(SimulatorRefusal) -> Booking {
        guard var booking = bookings[id] else { throw .notFound }
        if booking.status == "Cancelled" { throw .conflict("BookingIsCancelled", "The booking is already cancelled") }
        if booking.isCompleted == true { throw .conflict("BookingIsCompleted", "The booking is completed") }
        if let end = booking.endDate, end < Date() { throw .conflict("BookingHasPassed", "The booking has passed") }
        booking.status = "Cancelled"
        booking.modifiedOn = ISO8601.format(Date())
        bookings[id] = booking
        return booking
    }

    func modify(_ id: String, startsOn: Date, serviceID: Int, staffID: Int?) throws(SimulatorRefusal) -> Booking {
        guard let current = bookings[id] else { throw .notFound }
        if current.status == "Cancelled" { throw .conflict("BookingIsCancelled", "The booking is cancelled") }
        if current.isCompleted == true { throw .conflict("BookingIsCompleted", "The booking is completed") }
        guard let service = services.first(where: { $0.id == serviceID }) else { throw .invalid("unknown service \(serviceID)") }
        guard startsOn > Date().addingTimeInterval(60) else { throw .conflict("TimeTooEarly", "The start time is too early") }
        guard startsOn < Date().addingTimeInterval(366 * 86_400) else { throw .conflict("TimeTooLate", "The start time is too late") }
        let minutes = service.duration ?? 30
        let candidates = staffID.map { [$0] } ?? staff
        guard let staff = candidates.first(where: { isFree($0, from: startsOn, minutes: minutes, except: id) }) else {
            throw .conflict("StaffNotAvailable", "No staff is available at that time")
        }
        var client = current.client ?? .init(firstName: nil, lastName: nil, email: nil, presence: nil, trackingPage: nil)
        client.trackingPage = .init(viewURL: Self.newViewURL())
        var booking = Self.makeBooking(
            id: id, merchantID: current.merchantId ?? merchantID, service: service, startsOn: startsOn, staffID: staff, client: client)
        booking.createdOn = current.createdOn
        booking.location = current.location
        booking.locationText = current.locationText
        bookings[id] = booking
        return booking
    }

    /// Free slots of a service between two dates: every 30 minutes from 09:00 to 17:00 UTC, per
    /// staff member, where that staff member has nothing booked.
    func availability(serviceID: Int, from: Date, to: Date) throws(SimulatorRefusal) -> [AvailabilitySlot] {
        guard let service = services.first(where: { $0.id == serviceID }) else { throw .notFound }
        let minutes = service.duration ?? 30
        var slots: [AvailabilitySlot] = []
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var day = calendar.startOfDay(for: max(from, Date()))
        while day < to && slots.count < 500 {
            for halfHour in 18..<34 {
                let start = day.addingTimeInterval(Double(halfHour) * 1800)
                guard start >= from, start > Date().addingTimeInterval(60), start.addingTimeInterval(Double(minutes) * 60) <= to else { continue }
                for member in staff where isFree(member, from: start, minutes: minutes, except: nil) {
                    slots.append(
                        AvailabilitySlot(
                            start: ISO8601.format(start), end: ISO8601.format(start.addingTimeInterval(Double(minutes) * 60)),
                            serviceId: serviceID, staffId: member, duration: minutes))
                }
            }
            day = day.addingTimeInterval(86_400)
        }
        return slots
    }

    private func isFree(_ staffID: Int, from start: Date, minutes: Int, except: String?) -> Bool {
        let end = start.addingTimeInterval(Double(minutes) * 60)
        return !bookings.values.contains { booking in
            guard booking.bookingId != except, booking.status != "Cancelled", booking.staffId == staffID,
                let otherStart = booking.startDate, let otherEnd = booking.endDate
            else { return false }
            return otherStart < end && start < otherEnd
        }
    }

    private static func makeBooking(id: String, merchantID: Int, service: BooxiService, startsOn: Date, staffID: Int, client: Booking.Client)
        -> Booking
    {
        let minutes = service.duration ?? 30
        let now = ISO8601.format(Date())
        return Booking(
            bookingId: id, merchantId: merchantID, bookingMethod: "Appointment", status: "Approved", isCompleted: false,
            startsOn: ISO8601.format(startsOn),
            totalClientTimespan: .init(
                start: ISO8601.format(startsOn), end: ISO8601.format(startsOn.addingTimeInterval(Double(minutes) * 60)), duration: minutes),
            staffId: staffID, staffFirstName: staffID == 42 ? "Sam" : "Alex", location: "Business", modifiedOn: now, createdOn: now,
            items: [.init(serviceId: service.id, serviceName: service.name, duration: minutes)], client: client)
    }

    static func newViewURL() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        return "https://book.booxi.com/tracking/" + String((0..<36).map { _ in alphabet.randomElement()! })
    }
}

/// Why the simulator refused a call, with Booxi's status and body.
enum SimulatorRefusal: Error {
    case notFound
    case invalid(String)
    case conflict(String, String)
    /// Fault injection: the connection is dropped.
    case dropped
}
