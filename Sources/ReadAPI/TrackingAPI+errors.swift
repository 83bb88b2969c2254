import BooxiAPI
import HTTPSupport
import HTTPTypes
import RedisClient

/// How the read API's failures become HTTP, in one place. 503 is kept for real outages (Booxi
/// failing, Redis unreachable), each saying which; our own queue for Booxi's budget is never one.
extension TrackingAPI {
    /// The same answer for a malformed and an unknown code, so neither tells anything.
    static let notFound = APIError(.notFound, code: "not_found", "no booking for this tracking code")

    /// 202: the booking's details are being fetched; ask again after `retryAfterSeconds`.
    static func preparing(retryAfterSeconds: Int) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(retryAfterSeconds)
        return APIError(.accepted, code: "preparing", "this booking is being prepared; ask again shortly", headers: headers)
    }

    /// A Booxi error a visitor's request ran into (the API's own Booxi calls: lookups, services,
    /// availability).
    static func apiError(_ error: BooxiError) -> APIError {
        switch error {
        case .notFound:
            return notFound
        case .budgetBusy, .rateLimited:
            return preparing(retryAfterSeconds: 2)
        case .server, .transport:
            return APIError.unavailable(error.outageMessage, retryAfterSeconds: 10, code: "booxi_unavailable", cause: error.description)
        case .unauthorized, .invalid, .conflict:
            // Our request or our key was refused: a fault on our side, not Booxi's outage.
            return APIError(.badGateway, code: "booxi_refused", "the booking system refused our request", cause: error.description)
        }
    }

    static func apiError(_ failure: BookingReader.Failure) -> APIError {
        switch failure {
        case .notFound: notFound
        case .preparing(let seconds): preparing(retryAfterSeconds: seconds)
        case .booxi(let error): apiError(error)
        }
    }

    static func apiError(_ error: RedisError) -> APIError {
        APIError.unavailable("our booking store is unavailable right now", retryAfterSeconds: 5, cause: "Redis: \(error)")
    }
}
