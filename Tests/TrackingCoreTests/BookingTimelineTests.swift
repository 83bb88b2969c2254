import Foundation
import RedisClient
import TestSupport
import Testing
import TrackingCore

@Suite("The timeline's entries: one form in Swift and Lua, short enough for a compact record, a ring of 200")
struct BookingTimelineTests {
    @Test func anEntryReadsBackWithItsFieldsAndTime() throws {
        let text = BookingTimeline.encode(
            .webhook, at: 1_764_712_345_678, ["booking.confirmed", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", "0f3e4c1a-1111-4222-8333-444455556666"])
        #expect(text.utf8.count <= 64, "\(text)")
        let entry = try #require(BookingTimeline.decode(text))
        #expect(entry.at == 1_764_712_345_678 && entry.type == "webhook")
        #expect(entry.fields == ["event": "booking.confirmed", "eventId": "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", "job": "0f3e4c1a"])
        // A separator inside a value cannot shift the fields after it; empty values are left out.
        let odd = try #require(BookingTimeline.decode(BookingTimeline.encode(.command, at: 5, ["cancel", "ops|eve", "", "j"])))
        #expect(odd.fields == ["action": "cancel", "by": "ops/eve", "job": "j"])
        #expect(BookingTimeline.decode("not an entry") == nil && BookingTimeline.decode("zz|?|x") == nil)
    }

    /// The apply and store scripts encode with the Lua twin of ``BookingTimeline/encode(_:at:_:)``.
    @Test func luaWritesTheSameFormAsSwift() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        let script = RedisScript(BookingTimeline.lua + "return entry(ARGV[1], 'w', shortEvent(ARGV[2]), ARGV[3], string.sub(ARGV[4], 1, 8))")
        for (at, event, id) in [(Int64(1_764_712_345_678), "booking.cancelled", "evt|1"), (0, "booking.modified", ""), (35, "x.y", "é")] {
            let lua = try await redis.eval(script, keys: [], arguments: [Int(at), event, id, "abcdef0123456789"]).string
            #expect(lua == BookingTimeline.encode(.webhook, at: at, [event, id, "abcdef0123456789"]))
        }
        await redis.shutdown()
    }

    @Test func theRingKeepsTheLatest200InTheOrderWritten() async throws {
        let server = try RedisServer()
        defer { server.stop() }
        let redis = RedisClient(configuration: server.configuration())
        let timeline = BookingTimeline(keyPrefix: "bxt:", cluster: false)
        // No record, no timeline: a note cannot create one (nor bring back an erased booking).
        var pipeline = RedisPipeline()
        timeline.append(bookingID: "B1", [BookingTimeline.encode(.fetched, at: 1, ["Approved"])], to: &pipeline)
        _ = try await redis.execute(pipeline)
        #expect(try await redis.send("EXISTS", timeline.keys.booking("B1")).int == 0)

        _ = try await redis.send("HSET", timeline.keys.booking("B1"), "bookingId", "B1")
        for batch in stride(from: 0, to: 230, by: 23) {
            var pipeline = RedisPipeline()
            // All at one time: only the order they were written in tells them apart.
            timeline.append(bookingID: "B1", (batch..<batch + 23).map { BookingTimeline.encode(.fetched, at: 7, ["s\($0)"]) }, to: &pipeline)
            _ = try await redis.execute(pipeline)
        }
        let entries = try await timeline.read(bookingID: "B1", using: redis)
        #expect(entries.map { $0.fields["status"] ?? "" } == (30..<230).map { "s\($0)" })
        await redis.shutdown()
    }
}
