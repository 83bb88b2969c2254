import BooxiModels
import Foundation
import HTTPSupport
import Hummingbird
import RedisClient
import TrackingCore

/// Cancel and modify: validated here, executed by a worker, answered within `commandWait` if the
/// worker is that quick (200), else with a job to poll (202). A booking whose details are still
/// being fetched is no reason to refuse: the command is accepted and the worker checks the rules.
extension ReadAPIRoutes {
    /// A modify names its new slot by the token the availability answer gave it.
    struct ModifyRequest: Decodable {
        var slot: String
    }

    /// A cancel may say why: `{"reason": one of CancelReason.Code, "note": free text}`, both optional.
    struct CancelRequest: Decodable {
        var reason: String?
        var note: String?
    }

    struct Accepted: Encodable {
        var jobId: String
        var statusUrl: String
    }

    func cancel(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try throttle(actions, request, context)
        let code = try code(context)
        let reason = try await cancelReason(request)
        let target = try await actionable(code, context)
        return try await submit(
            CommandJob(
                action: .cancel, bookingID: target.bookingID, code: code.value, uncheckedCutoffMinutes: target.uncheckedCutoff,
                cancelReason: reason), context)
    }

    /// A request body as JSON, or nil. Foundation's decoder lets invalid UTF-8 through inside
    /// strings, so the bytes are checked first: a body that is not UTF-8 is not JSON (RFC 8259 §8.1).
    static func decodeJSON<T: Decodable>(_ type: T.Type, _ body: ByteBuffer) -> T? {
        let bytes = Array(buffer: body)
        guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
        return try? JSONDecoder().decode(type, from: Data(bytes))
    }

    /// The optional reason in a cancel's body (no body, or an empty one, is no reason).
    private func cancelReason(_ request: Request) async throws -> CancelReason? {
        var request = request
        let body = try await request.collectBody(upTo: 16 * 1024)
        guard body.readableBytes > 0 else { return nil }
        guard let sent = Self.decodeJSON(CancelRequest.self, body) else {
            throw ReadAPIError.invalidCancelReason(nil)
        }
        do {
            return try CancelReason(code: sent.reason, note: sent.note)
        } catch {
            throw ReadAPIError.invalidCancelReason(error)
        }
    }

    func modify(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try throttle(actions, request, context)
        let code = try code(context)
        var request = request
        let body = try await request.collectBody(upTo: 16 * 1024)
        guard let change = Self.decodeJSON(ModifyRequest.self, body) else {
            throw ReadAPIError.invalidBody
        }
        let target = try await actionable(code, context)
        let slot: SlotTokens.Slot
        do {
            slot = try slotTokens.open(change.slot, bookingID: target.bookingID)
        } catch {
            throw ReadAPIError.invalidSlot(error)
        }
        guard let startsOn = ISO8601.parse(slot.start), startsOn > Date() else {
            throw ReadAPIError.startsOnInPast
        }
        let command = CommandJob(
            action: .modify, bookingID: target.bookingID, code: code.value, startsOn: ISO8601.format(startsOn),
            serviceID: slot.serviceID, staffID: slot.staffID, uncheckedCutoffMinutes: target.uncheckedCutoff)
        return try await submit(command, context)
    }

    /// `GET /api/tracking/:code/jobs/:jobId`: only through the code the job was requested with.
    func jobStatus(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try throttle(lookups, request, context)
        let code = try code(context)
        guard let jobID = context.parameters.get("jobId"), UUID(uuidString: jobID) != nil,
            let status = try await commands.status(jobID: jobID.lowercased()), status.owner == code.logID
        else { throw ReadAPIError.jobNotFound }
        return jsonResponse(.ok, bytes: Self.publicJSON(status))
    }

    /// The booking a command is for, or 409 when it cannot change any more. While its details are
    /// being fetched the rules cannot be checked here: `uncheckedCutoff` hands them to the worker.
    private func actionable(_ code: TrackingCode, _ context: AppRequestContext) async throws -> (bookingID: String, uncheckedCutoff: Int?) {
        do {
            let found = try await reader.lookup(code)
            let entry = found.entry
            if let refusal = ChangeRefusal.check(
                recordStatus: entry.record.status, booking: entry.booking, start: entry.startDate, cutoffMinutes: settings.actionCutoffMinutes)
            {
                throw ReadAPIError.cannotChange(refusal)
            }
            return (entry.record.bookingID, nil)
        } catch BookingReader.Failure.preparing {
            guard let record = try await mappings.resolve(code) else { throw ReadAPIError.notFound }
            if record.isCancelled { throw ReadAPIError.cannotChange(.alreadyCancelled) }
            return (record.bookingID, settings.actionCutoffMinutes)
        } catch let failure as BookingReader.Failure {
            throw ReadAPIError(failure)
        } catch let error as RedisError {
            throw ReadAPIError.storeUnavailable(error)
        }
    }

    private func submit(_ command: CommandJob, _ context: AppRequestContext) async throws -> Response {
        let jobID: String
        switch try await commands.enqueue(command) {
        case .busy:
            metrics.command(command.action.rawValue, "busy")
            throw ReadAPIError.inProgress
        case .notReplicated(let id, let acknowledged):
            metrics.command(command.action.rawValue, "not_replicated")
            throw ReadAPIError.commandNotReplicated(jobID: id, acknowledged: acknowledged)
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
        case .failed where status.refusal == .unavailable:
            metrics.command(command.action.rawValue, "unavailable")
            throw ReadAPIError.commandUnavailable(reason: status.reason, jobID: jobID)
        case .failed, .queued, .running:
            metrics.command(command.action.rawValue, "refused")
            throw ReadAPIError.commandRefused(status.refusal ?? .refused, reason: status.reason)
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
