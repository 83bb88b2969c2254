import AsyncHTTPClient
import BooxiAPI
import BooxiModels
import BooxiSimulator
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RedisClient
import Synchronization
import TestSupport
import Testing

/// A simulator in-process enforcing fair use, a Redis for the budget, and clients against them;
/// each client has its own scheduler, as a process of its own would.
struct SimulatorTestCase {
    let server: RedisServer
    let redis: RedisClient
    let services: BackgroundServices
    let schedulers = Schedulers()
    let port: Int
    let logs: LogCapture

    static let apiKey = "sk-test-partner-key-0123456789"
    static let fairUse = FairUsePolicy(perSecond: 50, perMinute: 3_000, minSpacingMs: 10)

    static func start(fairUse: FairUsePolicy = fairUse) async throws -> SimulatorTestCase {
        let server = try RedisServer()
        var configuration = server.configuration()
        configuration.blockingPoolSize = 8
        let redis = RedisClient(configuration: configuration)
        let bound = BoundPort()
        let simulator = BooxiSimulator(
            settings: .init(
                host: "127.0.0.1", port: 0, apiKey: apiKey, webhookURL: "http://127.0.0.1:9/none", webhookToken: nil,
                seed: try SimulatorSeed.load(path: projectRoot.appendingPathComponent("config/simulator-seed.json").path),
                fairUse: fairUse),
            http: HTTPClient.shared, logger: Logger(label: "test.simulator"))
        let services = BackgroundServices([
            simulator.buildApplication(logger: Logger(label: "test.simulator"), onServerRunning: bound.onServerRunning)
        ])
        return SimulatorTestCase(server: server, redis: redis, services: services, port: await bound.value(), logs: LogCapture())
    }

    var baseURL: String { "http://127.0.0.1:\(port)/booking/v1" }

    func client(
        apiKey: String = apiKey, header: String = "Booxi-PartnerKey", policy: FairUsePolicy = fairUse, timeout: Duration = .seconds(5),
        baseURL: String? = nil
    ) -> BooxiClient {
        let scheduler = BooxiScheduler(redis: redis, keyPrefix: "bxt:", policy: policy, requestTimeout: timeout, logger: logs.logger)
        schedulers.running.withLock { $0.append(BackgroundServices([scheduler])) }
        return BooxiClient(
            configuration: .init(baseURL: baseURL ?? self.baseURL, apiKey: Secret(apiKey), apiKeyHeader: header, requestTimeout: timeout),
            http: HTTPClient.shared, scheduler: scheduler, logger: logs.logger)
    }

    /// The simulator's fair-use report.
    func fairUseReport() async throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: Data(try await control(.GET, "fair-use").utf8)) as? [String: Any]) ?? [:]
    }

    func control(_ method: HTTPMethod, _ path: String, _ json: String? = nil) async throws -> String {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/simulator/\(path)")
        request.method = method
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    func finish() async {
        for scheduler in schedulers.running.withLock({ $0 }) { await scheduler.stop() }
        await services.stop()
        await redis.shutdown()
        server.stop()
    }
}

/// The schedulers a test case started, stopped with it.
final class Schedulers: Sendable {
    let running = Mutex<[BackgroundServices]>([])
}

@Suite("Booxi client against the simulator", .serialized)
struct BooxiClientTests {
    @Test func everyCallWorks() async throws {
        let test = try await SimulatorTestCase.start()
        defer { Task { await test.finish() } }
        let booxi = test.client()
        let (booking, raw) = try await booxi.booking(id: "A00006500", .queue(.visitor))
        #expect(booking.bookingId == "A00006500" && booking.items?.first?.serviceName == "Haircut")
        #expect(booking.client?.trackingPage?.viewURL == "https://book.booxi.com/tracking/abc123XYZ")
        #expect(!raw.isEmpty)
        let services = try await booxi.services(.queue(.visitor))
        #expect(services.map(\.id) == [100, 101, 102])
        let from = Date().addingTimeInterval(2 * 86_400)
        let slots = try await booxi.availability(serviceID: 101, from: from, to: from.addingTimeInterval(86_400), .queue(.visitor))
        #expect(!slots.isEmpty && slots.allSatisfy { $0.serviceId == 101 && $0.duration == 60 })
        let slot = try #require(slots.first)
        let modified = try #require(
            try await booxi.modify(id: "A00006500", startsOn: ISO8601.parse(slot.start)!, serviceID: 101, staffID: slot.staffId))
        #expect(modified.items?.first?.serviceId == 101 && modified.startsOn == slot.start)
        #expect(modified.client?.trackingPage?.viewURL != booking.client?.trackingPage?.viewURL)
        let cancelled = try await booxi.cancel(id: "A00006500")
        #expect(cancelled?.status == "Cancelled")
        // Both header names Booxi documents are accepted.
        #expect(try await test.client(header: "x-api-key").booking(id: "A00006500", .queue(.visitor)).booking.status == "Cancelled")
    }

    @Test func everyErrorKindAndWhetherItRetries() async throws {
        let test = try await SimulatorTestCase.start()
        defer { Task { await test.finish() } }
        let booxi = test.client(timeout: .milliseconds(500))
        func error(_ body: () async throws -> Void) async -> BooxiError? {
            do { try await body(); return nil } catch { return error as? BooxiError }
        }
        let notFound = await error { _ = try await booxi.booking(id: "A99999999", .queue(.visitor)) }
        #expect(notFound == .notFound && notFound?.isRetryable == false)
        let unauthorized = await error { _ = try await test.client(apiKey: "wrong").booking(id: "A00006500", .queue(.visitor)) }
        #expect(unauthorized == .unauthorized && unauthorized?.isRetryable == false)
        let invalid = await error {
            _ = try await booxi.modify(id: "A00006500", startsOn: Date().addingTimeInterval(86_400), serviceID: 999, staffID: nil)
        }
        #expect(invalid?.isRetryable == false)
        if case .invalid = invalid {} else { Issue.record("expected invalid, got \(String(describing: invalid))") }
        let tooEarly = await error { _ = try await booxi.modify(id: "A00006500", startsOn: Date(), serviceID: 100, staffID: nil) }
        #expect(tooEarly == .conflict(code: "TimeTooEarly", message: "The start time is too early"))
        _ = try await test.control(.POST, "bookings/A00006500/complete")
        let completed = await error { _ = try await booxi.cancel(id: "A00006500") }
        #expect(completed == .conflict(code: "BookingIsCompleted", message: "The booking is completed") && completed?.isRetryable == false)

        for status in [500, 503] {
            _ = try await test.control(.PUT, "faults", #"{"failNext":1,"errorStatus":\#(status)}"#)
            let server = await error { _ = try await booxi.services(.queue(.visitor)) }
            #expect(server == .server(status: status) && server?.isRetryable == true)
        }
        _ = try await test.control(.PUT, "faults", #"{"failNext":1,"errorStatus":429,"retryAfterSeconds":1}"#)
        let limited = await error { _ = try await booxi.services(.queue(.visitor)) }
        #expect(limited == .rateLimited(retryAfter: .seconds(1)) && limited?.isRetryable == true)
        // The 429 paused every caller for a second; a call that cannot wait that long says so, and
        // blames our own queue, not Booxi.
        let paused = await error { _ = try await booxi.services(.queue(.visitor, wait: .milliseconds(300))) }
        if case .budgetBusy = paused {} else { Issue.record("expected budgetBusy during the pause, got \(String(describing: paused))") }
        #expect(paused?.isBooxiFailure == false)
        try await Task.sleep(for: .milliseconds(1_100))
        _ = try await test.control(.PUT, "faults", #"{"timeoutRate":1,"timeoutMs":2000}"#)
        let timeout = await error { _ = try await booxi.services(.queue(.visitor)) }
        if case .transport = timeout {} else { Issue.record("expected transport, got \(String(describing: timeout))") }
        #expect(timeout?.isRetryable == true)
        _ = try await test.control(.PUT, "faults", #"{"dropRate":1}"#)
        let dropped = await error { _ = try await booxi.services(.queue(.visitor)) }
        if case .transport = dropped {} else { Issue.record("expected transport for a dropped connection, got \(String(describing: dropped))") }
        _ = try await test.control(.DELETE, "faults")
        let transport = await error {
            _ = try await test.client(timeout: .milliseconds(500), baseURL: "http://127.0.0.1:9/booking/v1").services(.queue(.visitor))
        }
        if case .transport = transport {} else { Issue.record("expected transport, got \(String(describing: transport))") }

        // The key is in no error text and no log line.
        for error in [notFound, unauthorized, invalid, tooEarly, completed, limited, timeout, dropped, transport] {
            #expect(!"\(String(describing: error))".contains(SimulatorTestCase.apiKey))
        }
        #expect(!test.logs.text.contains(SimulatorTestCase.apiKey))
        #expect(test.logs.text.contains("Booxi call failed"))
    }

    @Test func a429PausesEveryCallerUntilRetryAfter() async throws {
        let test = try await SimulatorTestCase.start()
        defer { Task { await test.finish() } }
        let first = test.client()
        let second = test.client()
        _ = try await test.control(.PUT, "faults", #"{"failNext":1,"errorStatus":429,"retryAfterSeconds":1}"#)
        _ = try? await first.services(.queue(.visitor))
        let started = ContinuousClock.now
        _ = try await second.services(.queue(.visitor))  // another instance: still waits for the pause
        #expect(ContinuousClock.now - started >= .milliseconds(900))
    }

    @Test func dispatchingMovesToAnotherProcessWhenTheDispatcherStops() async throws {
        let test = try await SimulatorTestCase.start()
        defer { Task { await test.finish() } }
        let first = test.client()
        _ = try await first.services(.queue(.visitor))  // the first process took the lease
        try await Task.sleep(for: .milliseconds(200))
        let second = test.client()
        #expect(first.scheduler.isDispatching && !second.scheduler.isDispatching)
        // The dispatching process stops (its lease is released): the other one takes over and
        // its callers are served.
        let stopped = try #require(test.schedulers.running.withLock { $0.first })
        await stopped.stop()
        let started = ContinuousClock.now
        _ = try await second.services(.queue(.visitor, wait: .seconds(3)))
        // A call with room in the budget needs no dispatcher (the fast path); the lease moves all
        // the same, within about a second, for the callers that will queue.
        while !second.scheduler.isDispatching && ContinuousClock.now - started < .milliseconds(1_500) {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(second.scheduler.isDispatching)
    }

    @Test func twoProcessesTogetherKeepBooxisFairUseExactly() async throws {
        // Booxi's own figures, enforced by the simulator: 8 callers in two "processes" as fast as they can.
        let policy = FairUsePolicy.booxi
        let test = try await SimulatorTestCase.start(fairUse: policy)
        defer { Task { await test.finish() } }
        let clients = [test.client(policy: policy), test.client(policy: policy)]
        let window = Duration.seconds(4)
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                for _ in 0..<4 {
                    group.addTask {
                        while ContinuousClock.now - started < window { _ = try await client.services(.queue(.visitor)) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let report = try await test.fairUseReport()
        #expect(report["refused"] as? Int == 0, "\(report)")
        #expect((report["busiestSecond"] as? Int ?? 99) <= 5, "\(report)")
        // The budget is spent, not wasted: about 5 a second (the calls still running at the end finish late).
        let charged = report["charged"] as? Int ?? 0
        #expect(charged >= 18 && charged <= 30, "\(report)")
    }

    @Test func aBadRequestIsChargedTwice() async throws {
        let policy = FairUsePolicy(perSecond: 3, perMinute: 300, minSpacingMs: 10)
        let test = try await SimulatorTestCase.start(fairUse: policy)
        defer { Task { await test.finish() } }
        let booxi = test.client(policy: policy)
        // An unknown service: Booxi answers 400, which counts as two calls of the three a second allows.
        // One more read fits at once; the one after it waits for the 400 to leave the window.
        // Counted once, both would fit.
        _ = try? await booxi.modify(id: "A00006500", startsOn: Date().addingTimeInterval(86_400), serviceID: 999, staffID: nil)
        let started = ContinuousClock.now
        _ = try await booxi.services(.queue(.visitor))
        let second = ContinuousClock.now
        _ = try await booxi.services(.queue(.visitor))
        #expect(second - started < .milliseconds(500))
        #expect(ContinuousClock.now - started >= .milliseconds(800))
        let report = try await test.fairUseReport()
        #expect(report["badRequests"] as? Int == 1 && report["refused"] as? Int == 0, "\(report)")
    }
}
