import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// Services (apps, workers) running in the test process until ``stop()``: a graceful shutdown,
/// as SIGTERM would trigger.
public final class BackgroundServices: Sendable {
    private let group: ServiceGroup?
    private let task: Task<Void, any Error>?
    private let children: [BackgroundServices]

    public init(_ services: [any Service]) {
        let group = ServiceGroup(services: services, logger: Logger(label: "test.services"))
        self.group = group
        task = Task { try await group.run() }
        children = []
    }

    private init(children: [BackgroundServices]) {
        group = nil
        task = nil
        self.children = children
    }

    /// Several groups stopped one after the other, in the given order.
    public static func composite(_ groups: [BackgroundServices]) -> BackgroundServices {
        BackgroundServices(children: groups)
    }

    public func stop() async {
        for child in children { await child.stop() }
        guard let group, let task else { return }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

/// Learns the port a server bound to (port 0 in tests) from Hummingbird's `onServerRunning`.
public actor BoundPort {
    private var port: Int?
    private var waiters: [CheckedContinuation<Int, Never>] = []

    public init() {}

    public nonisolated var onServerRunning: @Sendable (any Channel) async -> Void {
        { channel in await self.set(channel.localAddress?.port ?? 0) }
    }

    private func set(_ port: Int) {
        self.port = port
        for waiter in waiters { waiter.resume(returning: port) }
        waiters.removeAll()
    }

    public func value() async -> Int {
        if let port { return port }
        return await withCheckedContinuation { waiters.append($0) }
    }
}
