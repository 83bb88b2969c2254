import BooxiAPI
import Foundation
import HTTPSupport
import Hummingbird
import TrackingCore

/// Cancel and modify: validated here, executed by a worker, answered within `commandWait` if the
/// worker is that quick (200), else with a job to poll (202).
extension TrackingAPI {
    struct ModifyRequest: Decodable {
        var startsOn: String
        var serviceId: Int
        var staffId: Int?
    }

    struct Accepted: Encodable {
        var jobId: String
        var statusUrl: String
    }

    func cancel(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try throttle(actions, request, context)
        let code = try code(context)
        let (record, view) = try await actionable(code, context)
        return try await submit(CommandJob(action: .cancel, bookingID: record.bookingID, code: code.value), view: view, context)
    }

    func modify(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try throttle(actions, request, context)
        let code = try code(context)
        var request = request
        let body = try await request.collectBody(upTo: 16 * 1024)
        guard let change = try? JSONDecoder().decode(ModifyRequest.self, from: Data(buffer: body)) else {
            throw APIError(.badRequest, code: "invalid_body", "expected {\"startsOn\": ISO-8601, \"serviceId\": number, \"staffId\"?: number}")
        }
        guard let startsOn = ISO8601.parse(change.startsOn) else {
            throw APIError(.badRequest, code: "invalid_starts_on", "startsOn must be an ISO-8601 date and time")
        }
        guard startsOn > Date() else { throw APIError(.badRequest, code: "starts_on_in_past", "startsOn must be in the future") }
        let (record, view) = try await actionable(code, context)
        guard try await catalog.services(context).contains(where: { $0.id == change.serviceId }) else {
            throw APIError(.badRequest, code: "unknown_service", "unknown serviceId")
        }
        let command = CommandJob(
            action: .modify, bookingID: record.bookingID, code: code.value, startsOn: ISO8601.format(startsOn),
            serviceID: change.serviceId, staffID: change.staffId)
        return try await submit(command, view: view, context)
    }

    /// `GET /api/tracking/:code/jobs/:jobId`: only through the code the job was requested with.
    func jobStatus(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try throttle(lookups, request, context)
        let code = try code(context)
        guard let jobID = context.parameters.get("jobId"), UUID(uuidString: jobID) != nil,
            let status = try await commands.status(jobID: jobID.lowercased()), status.owner == code.logID
        else { throw APIError(.notFound, code: "job_not_found", "no such job for this tracking code") }
        return jsonResponse(.ok, bytes: Self.publicJSON(status))
    }

    /// The record and view, or 409 when the booking cannot change any more.
    private func actionable(_ code: TrackingCode, _ context: AppRequestContext) async throws -> (BookingRecord, TrackingView) {
        let (record, view) = try await lookup(code, context)
        if record.isCancelled { throw APIError(.conflict, code: "already_cancelled", "this appointment is already cancelled") }
        if view.isCompleted { throw APIError(.conflict, code: "completed", "this appointment is completed") }
        guard view.actions.canCancel else {
            throw APIError(.conflict, code: "too_late", "this appointment can no longer be changed online")
        }
        return (record, view)
    }

    private func submit(_ command: CommandJob, view: TrackingView, _ context: AppRequestContext) async throws -> Response {
        let jobID: String
        switch try await commands.enqueue(command) {
        case .busy:
            metrics.command(command.action.rawValue, "busy")
            throw APIError(.conflict, code: "in_progress", "another change to this appointment is in progress")
        case .queued(let id):
            jobID = id
        }
        context.logger.info("command queued", metadata: ["jobId": "\(jobID)", "action": "\(command.action.rawValue)"])
        let result = try await commands.waitForResult(jobID: jobID, timeout: settings.commandWait)
        // Whatever the outcome, this replica's copy of the booking may be out of date now.
        reader.cache.forget(TrackingCode(command.code)!)
        guard let status = result else {
            metrics.command(command.action.rawValue, "accepted")
            let accepted = Accepted(jobId: jobID, statusUrl: "/api/tracking/\(command.code)/jobs/\(jobID)")
            return jsonResponse(.accepted, bytes: Array(try JSONEncoder().encode(accepted)))
        }
        switch status.state {
        case .succeeded:
            metrics.command(command.action.rawValue, "succeeded")
            let newCode = status.trackingCode.flatMap(TrackingCode.init) ?? TrackingCode(command.code)!
            return jsonResponse(.ok, bytes: try await self.view(newCode, context).encoded())
        case .failed where status.refusal == "Unavailable":
            metrics.command(command.action.rawValue, "unavailable")
            throw APIError.unavailable(status.reason ?? "the booking system is not reachable right now", retryAfterSeconds: 30)
        default:
            metrics.command(command.action.rawValue, "refused")
            throw APIError(.unprocessableContent, code: status.refusal ?? "refused", status.reason ?? "the change was refused")
        }
    }

    /// A status without its owner field.
    static func publicJSON(_ status: CommandStatus) -> [UInt8] {
        var visible = status
        visible.owner = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(visible)) ?? Data())
    }
}
