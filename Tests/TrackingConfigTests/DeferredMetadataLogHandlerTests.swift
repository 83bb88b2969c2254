import Logging
import Synchronization
import Testing
import TrackingConfig

/// Collects what a handler writes.
final class CapturedStream: TextOutputStream, Sendable {
    private let text = Mutex("")
    var lines: [String] { text.withLock { $0.split(separator: "\n").map(String.init) } }
    func write(_ string: String) { text.withLock { $0 += string } }
}

@Suite("Logging: metadata is rendered when a message is written, as StreamLogHandler renders it")
struct DeferredMetadataLogHandlerTests {
    /// The part of a line after the timestamp.
    static func body(_ line: String) -> Substring { line.drop { $0 != " " } }

    @Test func linesEqualStreamLogHandlersLines() {
        let ours = CapturedStream()
        let theirs = CapturedStream()
        var deferred = Logger(label: "test.role") { DeferredMetadataLogHandler(label: $0, level: .info, stream: ours) }
        var stream = Logger(label: "test.role") { label in
            var handler = StreamLogHandler(label: label, stream: theirs)
            handler.logLevel = .info
            return handler
        }
        deferred[metadataKey: "role"] = "ingress"
        stream[metadataKey: "role"] = "ingress"
        deferred[metadataKey: "hb.request.id"] = "42"
        stream[metadataKey: "hb.request.id"] = "42"
        deferred.info("queued", metadata: ["event": "booking.confirmed", "role": "explicit wins"])
        stream.info("queued", metadata: ["event": "booking.confirmed", "role": "explicit wins"])
        deferred[metadataKey: "hb.request.id"] = nil
        stream[metadataKey: "hb.request.id"] = nil
        deferred.warning("plain")
        stream.warning("plain")
        deferred.debug("below the level")
        stream.debug("below the level")

        #expect(ours.lines.count == 2)
        #expect(ours.lines.map(Self.body) == theirs.lines.map(Self.body))
        #expect(ours.lines.first?.contains("event=booking.confirmed hb.request.id=42 role=explicit wins [") == true)
    }
}
