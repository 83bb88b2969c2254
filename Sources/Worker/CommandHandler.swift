import BooxiAPI
import BooxiModels
import Foundation
import JobQueue
import Logging
import Synchronization
import TrackingCore

/// Runs cancel and modify jobs against Booxi. Which errors retry is Booxi's error taxonomy's call
/// (``BooxiError/isRetryable``); on success the cached booking (and, after a modify, the code
/// mapping) is updated at once, before Booxi's webhook arrives.
public struct CommandHandler: JobHandler {
    public let name = "command"
    let booxi: BooxiClient
    let mappings: MappingStore
    let commands: CommandStore
    let maxAttempts: Int
    let logger: Logger

    public init(booxi: BooxiClient, mappings: MappingStore, commands: CommandStore, maxAttempts: Int, logger: Logger) {
        self.booxi = booxi
        self.mappings = mappings
        self.commands = commands
        self.maxAttempts = maxAttempts
        self.logger = logger
    }

    public func handle(_ jobs: [FetchedJob]) async throws -> [JobOutcome] {
        var outcomes: [JobOutcome] = []
        for job in jobs { outcomes.append(try await handle(job)) }
        return outcomes
    }

    private func handle(_ job: FetchedJob) async throws -> JobOutcome {
        guard let envelope = job.envelope,
            let command = try? JSONDecoder().decode(CommandJob.self, from: Data(envelope.payload.utf8))
        else { return .failed(reason: "not a command job") }
        var logger = logger
        logger[metadataKey: "jobId"] = "\(envelope.id)"
        logger[metadataKey: "action"] = "\(command.action.rawValue)"
        try await commands.markRunning(jobID: envelope.id, shard: job.shard, command: command)
        let calls = BooxiCallLog()
        do {
            if let cutoff = command.uncheckedCutoffMinutes, let refusal = try await checkRules(command, cutoffMinutes: cutoff, calls) {
                try await commands.finish(
                    jobID: envelope.id, shard: job.shard, command: command, requestedAt: envelope.receivedAt,
                    status: CommandStatus(state: .failed, reason: refusal.message, refusal: .rule(refusal)),
                    calls: calls.entries)
                logger.notice("command refused by the change rules", metadata: ["refusal": "\(refusal.rawValue)"])
                return .succeeded
            }
            let (status, noted) = try await execute(command, envelope, calls)
            try await commands.finish(
                jobID: envelope.id, shard: job.shard, command: command, requestedAt: envelope.receivedAt, status: status, calls: calls.entries,
                noted: noted)
            logger.info("command succeeded")
            return .succeeded
        } catch let error as BooxiError {
            let lastAttempt = envelope.nextAttempt >= maxAttempts
            if error.isRetryable && !lastAttempt {
                logger.notice("command will retry", metadata: ["error": "\(error)"])
                try? await commands.note(jobID: envelope.id, command: command, calls: calls.entries)
                return .retry(error: error.description, retryAfter: error.retryAfter)
            }
            let refusal: CommandRefusal =
                switch error {
                case .conflict(let code, _): .booxi(code: code)
                case .budgetBusy, .rateLimited: .busy
                case _ where error.isBooxiFailure: .unavailable
                default: .refused
                }
            try await commands.finish(
                jobID: envelope.id, shard: job.shard, command: command, requestedAt: envelope.receivedAt,
                status: CommandStatus(state: .failed, reason: error.visitorMessage, refusal: refusal),
                calls: calls.entries)
            logger.notice("command failed", metadata: ["error": "\(error)"])
            return .failed(reason: error.description)
        }
    }

    /// The API accepted this command before the booking's details were known: fetch them (in the
    /// command's class: the visitor is waiting) and apply the same rule the API would have.
    private func checkRules(_ command: CommandJob, cutoffMinutes: Int, _ calls: BooxiCallLog) async throws -> ChangeRefusal? {
        let (booking, _) = try await calls.time("GET /booking") { try await booxi.booking(id: command.bookingID, .queue(.command)) }
        try await mappings.storeBooking(bookingID: command.bookingID, booking: booking, status: nil, endsAt: booking.endDate)
        let status = try await mappings.record(bookingID: command.bookingID)?.status ?? booking.status ?? ""
        return ChangeRefusal.check(recordStatus: status, booking: booking, start: booking.startDate, cutoffMinutes: cutoffMinutes)
    }

    /// Calls Booxi and updates our copy; throws ``BooxiError``. `noted`: the calls and the result
    /// went to the timeline with the copy (one write, not two).
    private func execute(_ command: CommandJob, _ envelope: JobEnvelope, _ calls: BooxiCallLog) async throws -> (status: CommandStatus, noted: Bool) {
        var updated: Booking?
        switch command.action {
        case .cancel:
            updated = try await calls.time("PUT /booking (cancel)") { try await booxi.cancel(id: command.bookingID) }
        case .modify:
            guard let startsOn = command.startsOn.flatMap(ISO8601.parse), let serviceID = command.serviceID else {
                throw BooxiError.invalid("modify needs startsOn and serviceId")
            }
            updated = try await calls.time("PUT /booking (modify)") {
                try await booxi.modify(id: command.bookingID, startsOn: startsOn, serviceID: serviceID, staffID: command.staffID)
            }
        }
        if updated == nil {
            updated = try? await calls.time("GET /booking") { try await booxi.booking(id: command.bookingID, .queue(.command)).booking }
        }
        var newCode = command.code
        if let updated {
            // A modify may issue a new tracking code: map it now, retire the old one.
            if let viewURL = updated.client?.trackingPage?.viewURL, let code = try? TrackingCode(viewURL: viewURL), code.value != command.code {
                let event = WebhookEvent(
                    eventType: .modified, bookingID: command.bookingID, trackingCode: code, status: updated.status ?? "Approved",
                    eventTime: JobEnvelope.nowMilliseconds(), details: WebhookEvent.Details(updated))
                _ = try await mappings.apply(event, receivedAt: JobEnvelope.nowMilliseconds())
                newCode = code.value
            }
            let status = command.action == .cancel ? "Cancelled" : updated.status
            let result = CommandStatus(state: .succeeded, trackingCode: newCode)
            let noted = try await mappings.storeBooking(
                bookingID: command.bookingID, booking: updated, status: status, endsAt: updated.endDate,
                cancelledBy: command.action == .cancel ? "visitor" : nil,
                notes: commands.timelineNotes(
                    of: command, jobID: envelope.id, requestedAt: envelope.receivedAt, calls: calls.entries, result: result))
            return (result, noted)
        }
        return (CommandStatus(state: .succeeded, trackingCode: newCode), false)
    }
}

/// The Booxi calls one command attempt made, with their outcome and duration, for the timeline.
final class BooxiCallLog: Sendable {
    private let calls = Mutex<[CommandStore.BooxiCall]>([])

    var entries: [CommandStore.BooxiCall] { calls.withLock { $0 } }

    func time<T>(_ call: String, _ body: () async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        let startedAt = JobEnvelope.nowMilliseconds()
        func record(_ status: String) {
            let elapsed = ContinuousClock.now - started
            let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
            calls.withLock { $0.append(.init(call: call, status: status, milliseconds: milliseconds, startedAt: startedAt)) }
        }
        do {
            let result = try await body()
            record("200")
            return result
        } catch let error as BooxiError {
            record(Self.status(of: error))
            throw error
        }
    }

    /// The status Booxi answered, or what happened instead.
    static func status(of error: BooxiError) -> String {
        switch error {
        case .notFound: "404"
        case .conflict(let code, _): "409 \(code)"
        case .invalid: "400"
        case .unauthorized: "401"
        case .rateLimited: "429"
        case .server(let status): String(status)
        case .transport: "unreachable"
        case .budgetBusy: "not called (budget busy)"
        }
    }
}
