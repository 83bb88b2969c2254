import Foundation
import HTTPSupport
import HTTPTypes
import Hummingbird
import JobQueue
import Logging
import NIOCore
import RedisClient
import TrackingConfig
import TrackingCore

/// The read API's pieces, shared by its routes.
struct ReadAPIRoutes: Sendable {
    let settings: APISettings
    let reader: BookingReader
    let mappings: MappingStore
    let commands: CommandStore
    let slotTokens: SlotTokens
    let catalog: Catalog
    let lookups: RequestThrottle
    let actions: RequestThrottle
    let clientAddress: ClientAddressResolver
    let venues: VenueDirectory
    let calendar: CalendarFile.Writer
    let policy: TrackingView.Policy
    let metrics = APIMetrics()

    func code(_ context: AppRequestContext) throws -> TrackingCode {
        guard let text = context.parameters.get("code"), let code = TrackingCode(text) else { throw ReadAPIError.notFound }
        return code
    }

    func throttle(_ throttle: RequestThrottle, _ request: Request, _ context: AppRequestContext) throws {
        if let retryAfter = throttle.admit(client: clientAddress.clientBucket(peer: context.remoteAddress, headers: request.headers)) {
            metrics.throttled.increment()
            throw ReadAPIError.rateLimited(retryAfterSeconds: retryAfter)
        }
    }

    func view(_ code: TrackingCode, _ context: AppRequestContext) async throws -> TrackingView {
        let found = try await lookup(code, context)
        return await view(found)
    }

    /// The view of what a lookup found, with its store's venue (from memory, almost always).
    func view(_ found: BookingReader.Found, venue: VenueDirectory.Known? = nil, now: Date = Date()) async -> TrackingView {
        let known: VenueDirectory.Known
        if let venue { known = venue } else { known = await venues.venue(found.entry.booking?.merchantId) }
        return TrackingView(entry: found.entry, venue: known, stale: found.stale, policy: policy, now: now)
    }

    /// What is behind a code, with the reader's failures as HTTP errors.
    func lookup(_ code: TrackingCode, _ context: AppRequestContext) async throws -> BookingReader.Found {
        do {
            return try await reader.lookup(code)
        } catch let failure as BookingReader.Failure {
            throw ReadAPIError(failure)
        } catch let error as RedisError {
            throw ReadAPIError.storeUnavailable(error)
        }
    }

    /// `GET /api/tracking/:code`
    func lookup(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try throttle(lookups, request, context)
        let started = ContinuousClock.now
        let code = try code(context)
        let view = try await view(code, context)
        metrics.lookupDuration.record(duration: ContinuousClock.now - started)
        return jsonResponse(.ok, bytes: view.encoded())
    }
}

extension ReadAPIRoutes {
    /// `GET /api/tracking/:code/calendar.ics`: the appointment for the visitor's calendar.
    func calendarFile(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try throttle(lookups, request, context)
        let found = try await lookup(try code(context), context)
        let venue = await venues.venue(found.entry.booking?.merchantId)
        let view = await view(found, venue: venue)
        let language = calendar.messages.language(for: request.headers[.acceptLanguage])
        guard let file = calendar.file(for: view, venue: venue.venue, record: found.record, language: language) else {
            throw ReadAPIError.noStartTime
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/calendar; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"appointment.ics\""
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: file.text)))
    }
}

extension ReadAPIRoutes {
    /// Builds the routes under `/api/tracking/:code`.
    func addRoutes(to router: Router<AppRequestContext>) {
        let group = router.group("api/tracking/:code")
        group.get { request, context in try await lookup(request, context) }
        group.post("cancel") { request, context in try await cancel(request, context) }
        group.post("modify") { request, context in try await modify(request, context) }
        group.get("jobs/:jobId") { request, context in try await jobStatus(request, context) }
        group.get("services") { request, context in try await services(request, context) }
        group.get("availability") { request, context in try await availability(request, context) }
        group.get("calendar.ics") { request, context in try await calendarFile(request, context) }
    }
}
