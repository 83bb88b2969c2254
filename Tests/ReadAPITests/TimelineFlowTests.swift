import Foundation
import Operations
import Testing

@Suite("A booking's timeline over the real pipeline: the worker notes deliveries, duplicates as a count")
struct TimelineFlowTests {
    /// Booxi delivers the `booking.confirmed` webhook twice with one `webhook-id` (the simulator's
    /// duplicate fault): the ingress queues the first and stops the second, which the console shows
    /// as a count on the one delivery the worker noted.
    @Test func aDuplicateDeliveryShowsAsACountOnTheDeliveryTheWorkerNoted() async throws {
        let system = try await SystemTestCase.start()
        defer { Task { await system.finish() } }
        _ = try await system.simulator(.PUT, "faults", #"{"duplicateWebhooks":true}"#)
        let code = try await system.book()
        let operations = OperationsStore(redis: system.redis, keyPrefix: "bxt:", retentionHours: 1, heartbeatTTL: .seconds(15))

        var answer: OperationsStore.TimelineAnswer?
        try await system.waitUntil {
            answer = try await operations.timeline(for: code)
            let entries = answer?.entries ?? []
            return entries.first { $0.type == "webhook" }?.fields["duplicates"] == "1" && entries.contains { $0.type == "fetched" }
        }
        let entries = try #require(answer).entries
        let deliveries = entries.filter { $0.type == "webhook" }
        #expect(deliveries.count == 1, "\(entries)")
        #expect(deliveries.first?.fields["event"] == "booking.confirmed")
        #expect(deliveries.first?.fields["eventId"]?.isEmpty == false && deliveries.first?.fields["job"]?.count == 8)
        // Received (at the ingress' time), then applied by the worker, then the prefetch's copy.
        #expect(Array(entries.map(\.type).prefix(3)) == ["webhook", "apply", "fetched"], "\(entries)")
        #expect(entries[1].fields["outcome"] == "applied" && entries[1].fields["code"] == String(code.prefix(4)) + "…")
        #expect(entries.map(\.at) == entries.map(\.at).sorted())
    }
}
