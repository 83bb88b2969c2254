import BooxiAPI
import HTTPSupport
import HTTPTypes
import RedisClient
import TrackingCore

/// Every failure the read API answers, and what each is over HTTP: the one mapping. 503 is kept
/// for real outages (Booxi failing, Redis unreachable), each saying which; our own queue for
/// Booxi's budget is never one.
enum ReadAPIError: HTTPMappedError {
    /// The same answer for a malformed and an unknown code, so neither tells anything.
    case notFound
    /// 202: the booking's details are being fetched; ask again after `retryAfterSeconds`.
    case preparing(retryAfterSeconds: Int)
    case rateLimited(retryAfterSeconds: Int)
    /// Booxi answers 5xx or not at all, and nothing is cached.
    case booxiUnavailable(BooxiError)
    /// Booxi refused our request or our key: a fault on our side, not Booxi's outage.
    case booxiRefused(BooxiError)
    /// Redis is unreachable.
    case storeUnavailable(RedisError)
    case invalidBody
    /// A cancel's body is not `{"reason"?, "note"?}` JSON, names an unknown reason, or its note is too long.
    case invalidCancelReason(CancelReason.Invalid?)
    case invalidSlot(SlotTokens.Refusal)
    case startsOnInPast
    case jobNotFound
    /// A calendar file for a booking whose start time we do not know (yet).
    case noStartTime
    /// The booking cannot change any more (cancelled, completed, past the cutoff).
    case cannotChange(ChangeRefusal)
    /// Another command for this booking is in flight.
    case inProgress
    /// The worker ran the command and it was refused; `reason` is the sentence for the visitor.
    case commandRefused(CommandRefusal, reason: String?)
    /// The command is queued on the primary but fewer replicas than `ingress.replicaAcks` hold it.
    case commandNotReplicated(jobID: String, acknowledged: Int)
    /// The worker gave up on Booxi for this job.
    case commandUnavailable(reason: String?, jobID: String)
    /// Availability without a `serviceId`, or one that is not a positive number.
    case missingService
    case invalidRange
    case rangeTooLong
    /// An availability window starting before yesterday or beyond `api.availabilityHorizonDays`.
    case rangeOutOfBounds(horizonDays: Int)
    case unknownService
    /// A CORS preflight from an origin not in `api.allowedOrigins`.
    case corsRefused

    /// A Booxi error a visitor's request ran into (the API's own Booxi calls: lookups, services,
    /// availability).
    init(_ error: BooxiError) {
        switch error {
        case .notFound: self = .notFound
        case .budgetBusy, .rateLimited: self = .preparing(retryAfterSeconds: 2)
        case .server, .transport: self = .booxiUnavailable(error)
        case .unauthorized, .invalid, .conflict: self = .booxiRefused(error)
        }
    }

    init(_ refusal: AvailabilityWindow.Refusal, horizonDays: Int) {
        switch refusal {
        case .invalid: self = .invalidRange
        case .tooLong: self = .rangeTooLong
        case .outOfBounds: self = .rangeOutOfBounds(horizonDays: horizonDays)
        }
    }

    init(_ failure: BookingReader.Failure) {
        switch failure {
        case .notFound: self = .notFound
        case .preparing(let seconds): self = .preparing(retryAfterSeconds: seconds)
        case .booxi(let error): self.init(error)
        }
    }

    var apiError: APIError {
        switch self {
        case .notFound: APIError(.notFound, code: "not_found", "no booking for this tracking code")
        case .preparing(let seconds): .accepted("preparing", "this booking is being prepared; ask again shortly", retryAfterSeconds: seconds)
        case .rateLimited(let seconds): .rateLimited(retryAfterSeconds: seconds)
        case .booxiUnavailable(let error):
            .unavailable(error.outageMessage, retryAfterSeconds: 10, code: "booxi_unavailable", cause: error.description)
        case .booxiRefused(let error):
            APIError(.badGateway, code: "booxi_refused", "the booking system refused our request", cause: error.description)
        case .storeUnavailable(let error):
            .unavailable("our booking store is unavailable right now", retryAfterSeconds: 5, cause: "Redis: \(error)")
        case .invalidBody:
            APIError(.badRequest, code: "invalid_body", "expected {\"slot\": a slot token from the availability answer}")
        case .invalidCancelReason(.unknownCode(let code)):
            APIError(
                .badRequest, code: "invalid_reason",
                "unknown reason '\(code.prefix(40))'; expected one of \(CancelReason.Code.allCases.map(\.rawValue).joined(separator: ", "))")
        case .invalidCancelReason(.noteTooLong):
            APIError(.badRequest, code: "invalid_reason", "the note is longer than \(CancelReason.maxNoteLength) characters")
        case .invalidCancelReason(nil):
            APIError(.badRequest, code: "invalid_reason", "expected no body, or {\"reason\": a reason code, \"note\": text}")
        case .invalidSlot(let refusal): APIError(.badRequest, code: refusal.code, refusal.message)
        case .startsOnInPast: APIError(.badRequest, code: "starts_on_in_past", "this time slot has passed; choose a slot again")
        case .jobNotFound: APIError(.notFound, code: "job_not_found", "no such job for this tracking code")
        case .noStartTime: APIError(.conflict, code: "no_start_time", "this booking has no start time yet; try again shortly")
        case .cannotChange(let refusal): APIError(.conflict, code: refusal.rawValue, refusal.message)
        case .inProgress: APIError(.conflict, code: "in_progress", "another change to this appointment is in progress")
        case .commandRefused(let refusal, let reason):
            APIError(.unprocessableContent, code: refusal.code, reason ?? "the change was refused")
        case .commandNotReplicated(let jobID, let acknowledged):
            .unavailable(
                "your change could not be confirmed as stored; reload the page before trying again", retryAfterSeconds: 5,
                cause: "job \(jobID) queued but WAIT answered \(acknowledged) replicas")
        case .commandUnavailable(let reason, let jobID):
            .unavailable(
                reason ?? "the booking system (Booxi) is failing", retryAfterSeconds: 30, code: "booxi_unavailable",
                cause: "job \(jobID): Booxi kept failing until the last attempt")
        case .missingService: APIError(.badRequest, code: "invalid_service", "serviceId is required: a positive number")
        case .invalidRange: APIError(.badRequest, code: "invalid_range", "from and to must be ISO-8601 with from before to")
        case .rangeTooLong: APIError(.badRequest, code: "range_too_long", "at most \(AvailabilityWindow.maxDays) days at a time")
        case .rangeOutOfBounds(let horizon):
            APIError(.badRequest, code: "range_out_of_bounds", "from must be a day between yesterday and \(horizon) days ahead")
        case .unknownService: APIError(.badRequest, code: "unknown_service", "unknown serviceId")
        case .corsRefused: APIError(.forbidden, code: "cors_refused", "this origin may not call this API")
        }
    }

    static var everyCase: [ReadAPIError] {
        [
            .notFound, .preparing(retryAfterSeconds: 2), .rateLimited(retryAfterSeconds: 1), .booxiUnavailable(.server(status: 503)),
            .booxiRefused(.unauthorized), .storeUnavailable(.connection("refused")), .invalidBody, .invalidSlot(.invalid),
            .invalidCancelReason(.unknownCode("x")), .invalidCancelReason(.noteTooLong), .invalidCancelReason(nil),
            .invalidSlot(.expired), .invalidSlot(.otherBooking), .startsOnInPast, .jobNotFound, .noStartTime, .inProgress,
            .commandRefused(.booxi(code: "BookingIsCompleted"), reason: nil), .commandRefused(.busy, reason: nil),
            .commandRefused(.refused, reason: nil), .commandUnavailable(reason: nil, jobID: "j"), .commandNotReplicated(jobID: "j", acknowledged: 0),
            .missingService, .invalidRange,
            .rangeTooLong, .rangeOutOfBounds(horizonDays: 180), .unknownService, .corsRefused,
        ] + ChangeRefusal.allCases.flatMap { [.cannotChange($0), .commandRefused(.rule($0), reason: nil)] }
    }
}
