import Foundation
import RedisClient

/// Redis commands as the server counted them (`INFO commandstats`: a script's own commands count
/// too, each under its name), without those that manage connections or read statistics.
public struct CommandCounts: Equatable, CustomStringConvertible, Sendable {
    /// Not the work of an event: connection set-up and health, script loading, the test's own polls,
    /// a replica's acknowledgements of the replication stream.
    public static let excluded: Set<String> = [
        "info", "ping", "client", "hello", "auth", "select", "config", "script", "memory", "dbsize", "replconf",
    ]

    public var calls: [String: Int]

    public var total: Int { calls.values.reduce(0, +) }
    public subscript(name: String) -> Int { calls[name] ?? 0 }

    public static func read(_ redis: RedisClient) async throws -> CommandCounts {
        let text = try await redis.send("INFO", "commandstats").string ?? ""
        var calls: [String: Int] = [:]
        // cmdstat_hset:calls=12,usec=...
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            let parts = line.dropFirst("cmdstat_".count).split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let field = parts[1].split(separator: ",").first(where: { $0.hasPrefix("calls=") }),
                let count = Int(field.dropFirst("calls=".count))
            else { continue }
            let name = String(parts[0]).lowercased()
            // `cluster|…`: a Cluster client looking up the slot map, no event's work either.
            if !excluded.contains(name) && !["client|", "config|", "script|", "cluster|"].contains(where: name.hasPrefix) {
                calls[name] = count
            }
        }
        return CommandCounts(calls: calls)
    }

    /// ``read(_:)`` of one server, or summed over every primary of `cluster`.
    public static func read(_ redis: RedisClient, everyPrimaryOf cluster: RedisClusterServers?) async throws -> CommandCounts {
        guard let cluster else { return try await read(redis) }
        return try await cluster.onEachPrimary(knownBy: redis) { try await read($0) }.reduce(CommandCounts(calls: [:]), +)
    }

    public init(calls: [String: Int]) {
        self.calls = calls
    }

    public static func + (lhs: CommandCounts, rhs: CommandCounts) -> CommandCounts {
        CommandCounts(calls: lhs.calls.merging(rhs.calls, uniquingKeysWith: +))
    }

    public static func - (lhs: CommandCounts, rhs: CommandCounts) -> CommandCounts {
        CommandCounts(calls: lhs.calls.merging(rhs.calls.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value != 0 })
    }

    public var description: String { calls.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
}

extension RedisClient {
    /// `INFO <section>` as its `name:value` lines.
    public func info(_ section: String) async throws -> [String: String] {
        let text = try await send("INFO", section).string ?? ""
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        return values
    }
}
