import BooxiAPI
import BooxiModels
import Foundation
import Logging
import Metrics
import RedisClient
import ServiceLifecycle
import TrackingCore

/// Fetches bookings in the background (``BookingFetches``): it first waits for a grant in the
/// class of the most urgent due entry, then takes whatever is most urgent at that moment, so a
/// fetcher never sits on a booking while it waits. Several fetchers per worker, any number of
/// workers: each holds at most one place in the budget's queue.
public struct BookingFetcher: Service {
    let fetches: BookingFetches
    let mappings: MappingStore
    let booxi: BooxiClient
    let concurrency: Int
    let logger: Logger
    private let outcomes: [String: Counter]

    static let retryDelay = Duration.seconds(30)

    public init(fetches: BookingFetches, mappings: MappingStore, booxi: BooxiClient, concurrency: Int, logger: Logger) {
        self.fetches = fetches
        self.mappings = mappings
        self.booxi = booxi
        self.concurrency = concurrency
        self.logger = logger
        var outcomes: [String: Counter] = [:]
        for callClass in BookingFetches.classes {
            for outcome in ["stored", "superseded", "retried", "dropped"] {
                outcomes["\(callClass)/\(outcome)"] = Counter(
                    label: "booxi_tracking_worker_fetches_total", dimensions: [("class", callClass.description), ("outcome", outcome)])
            }
        }
        self.outcomes = outcomes
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            // One outage for all fetchers: one line when Redis goes, not one per fetcher.
            let outage = OutagePause("booking fetcher", logger: logger)
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<concurrency { group.addTask { await self.fetchUntilCancelled(outage) } }
            }
        }
    }

    private func fetchUntilCancelled(_ outage: OutagePause) async {
        while !Task.isCancelled {
            do {
                guard let callClass = try await fetches.mostUrgentDue() else {
                    try await fetches.waitForRequest(timeout: .seconds(1))
                    continue
                }
                let grant = try await booxi.scheduler.acquire(callClass, wait: booxi.maxQueueWait)
                guard let (bookingID, taken, version) = try await fetches.next(fetchTimeout: booxi.requestTimeout) else {
                    await booxi.scheduler.release(grant)
                    continue
                }
                await fetch(bookingID, taken, version, grant)
                outage.succeeded()
            } catch BooxiError.budgetBusy {
                continue  // the queue is long: stay in it
            } catch {
                if Task.isCancelled { break }
                await outage.failed(error)
            }
        }
    }

    private func fetch(_ bookingID: String, _ callClass: BooxiCallClass, _ version: Int64?, _ grant: BooxiGrant) async {
        guard let version else {
            await booxi.scheduler.release(grant)  // the record expired meanwhile: nobody will look
            count(callClass, "dropped")
            return
        }
        do {
            let (booking, _) = try await booxi.booking(id: bookingID, .granted(grant))
            // Not stored if an event changed the record meanwhile: that event asked for its own fetch.
            let stored = try await mappings.storeBooking(
                bookingID: bookingID, booking: booking, status: booking.status, endsAt: booking.endDate, ifVersion: version)
            count(callClass, stored ? "stored" : "superseded")
        } catch let error as BooxiError where error.isRetryable {
            logger.notice("background fetch will retry", metadata: ["class": "\(callClass)", "error": "\(error)"])
            try? await fetches.request(bookingID, callClass, after: Self.retryDelay)
            count(callClass, "retried")
        } catch let error as BooxiError {
            // Not found, refused: a visitor's lookup will say so when it comes.
            logger.notice("background fetch dropped", metadata: ["class": "\(callClass)", "error": "\(error)"])
            count(callClass, "dropped")
        } catch {
            try? await fetches.request(bookingID, callClass, after: .seconds(1))
            count(callClass, "retried")
        }
    }

    private func count(_ callClass: BooxiCallClass, _ outcome: String) {
        outcomes["\(callClass)/\(outcome)"]?.increment()
    }
}

extension BookingFetcher: CustomStringConvertible {
    /// What service-lifecycle logs this service by: its name, not a reflection of the Booxi
    /// client and everything it holds.
    public var description: String { "BookingFetcher(concurrency: \(concurrency))" }
}
