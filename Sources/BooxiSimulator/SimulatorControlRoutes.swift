import BooxiModels
import Foundation
import HTTPSupport
import Hummingbird

/// `/simulator/...`: create bookings (firing `booking.confirmed`), inject faults, read call counts.
/// For local runs and tests only; the simulator listens on loopback by default.
extension BooxiSimulator {
    struct NewBooking: Decodable {
        var serviceId: Int
        var startsOn: String
        var staffId: Int?
        var firstName: String?
        var lastName: String?
        var email: String?
        /// Booxi's `location` kind and its text (an address, a number, a video link).
        var location: String?
        var locationText: String?
        /// `PendingStaffApproval`, `PendingClientApproval` or `Approved` (the default).
        var status: String?
    }

    /// `PATCH /simulator/bookings/:id`: what staff change in Booxi's back office (approve, check
    /// the client in, mark a no-show, complete, move, change the location). Booxi then sends
    /// `booking.modified` (`booking.cancelled` for a cancellation), and so does the simulator.
    struct BookingChange: Decodable {
        var status: String?
        var presence: String?
        var isCompleted: Bool?
        var startsOn: String?
        var location: String?
        var locationText: String?
    }

    struct CreatedBooking: Encodable {
        var booking: Booking
        var trackingCode: String
    }

    func addControlRoutes(to control: RouterGroup<AppRequestContext>) {
        control.post("bookings") { request, context in
            let new = try await request.decode(as: NewBooking.self, context: context)
            guard let startsOn = ISO8601.parse(new.startsOn) else {
                throw SimulatorControlError.invalidStartsOn
            }
            do {
                var booking = try await state.create(
                    serviceID: new.serviceId, startsOn: startsOn, staffID: new.staffId, firstName: new.firstName ?? "Jane",
                    lastName: new.lastName ?? "Doe", email: new.email ?? "jane.doe@example.com")
                if new.location != nil || new.locationText != nil || new.status != nil {
                    booking.location = new.location ?? booking.location
                    booking.locationText = new.locationText
                    booking.status = new.status ?? booking.status
                    await state.insert(booking)
                }
                sender.send("booking.confirmed", booking)
                let code = booking.client?.trackingPage?.viewURL?.split(separator: "/").last.map(String.init) ?? ""
                return try Self.json(CreatedBooking(booking: booking, trackingCode: code))
            } catch {
                throw SimulatorControlError.invalidBooking
            }
        }
        control.patch("bookings/:id") { request, context in
            let id = try context.parameters.require("id")
            let change = try await request.decode(as: BookingChange.self, context: context)
            guard var booking = await state.booking(id) else { throw SimulatorControlError.noSuchBooking }
            if let status = change.status { booking.status = status }
            if let presence = change.presence { booking.client?.presence = presence }
            if let isCompleted = change.isCompleted { booking.isCompleted = isCompleted }
            if let location = change.location { booking.location = location }
            if let text = change.locationText { booking.locationText = text }
            if let text = change.startsOn {
                guard let start = ISO8601.parse(text) else { throw SimulatorControlError.invalidStartsOn }
                let minutes = booking.durationMinutes ?? 30
                booking.startsOn = ISO8601.format(start)
                booking.totalClientTimespan = .init(
                    start: ISO8601.format(start), end: ISO8601.format(start.addingTimeInterval(Double(minutes) * 60)), duration: minutes)
            }
            booking.modifiedOn = Date().formatted(WebhookSender.milliseconds)
            await state.insert(booking)
            sender.send(booking.status == "Cancelled" ? "booking.cancelled" : "booking.modified", booking)
            return try Self.json(booking)
        }
        control.post("bookings/:id/complete") { _, context in
            let id = try context.parameters.require("id")
            guard var booking = await state.booking(id) else { throw SimulatorControlError.noSuchBooking }
            booking.isCompleted = true
            booking.client?.presence = "Arrived"
            await state.insert(booking)
            return try Self.json(booking)
        }
        control.get("faults") { _, _ in try Self.json(await faults.plan) }
        control.put("faults") { request, context in
            let plan = try await request.decode(as: FaultPlan.self, context: context)
            await faults.set(plan)
            return try Self.json(plan)
        }
        control.delete("faults") { _, _ in
            await faults.set(FaultPlan())
            return try Self.json(FaultPlan())
        }
        control.get("calls") { _, _ in try Self.json(await faults.calls) }
        // Booxi's fair use as enforced here: calls, 429s, 400s, the busiest windows, the smallest gap.
        control.get("fair-use") { _, _ in
            guard let report = await fairUse.report() else { return jsonResponse(.ok, #"{"enforced":false}"#) }
            return try Self.json(report)
        }
        control.delete("fair-use") { _, _ in
            await fairUse.reset()
            return jsonResponse(.ok, "{}")
        }
        control.delete("calls") { _, _ in
            await faults.resetCalls()
            return jsonResponse(.ok, "{}")
        }
    }
}
