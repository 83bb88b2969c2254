import Foundation
import RedisClient

/// A throwaway Redis Cluster on loopback: `primaries` primaries with one replica each, every node a
/// `redis-server --cluster-enabled yes` (``RedisServer``), joined by `redis-cli --cluster create`.
/// Failures are detected within `nodeTimeoutMs`, so a killed primary's replica takes over in about
/// two seconds. Tests must call ``stop()``.
public final class RedisClusterServers: @unchecked Sendable {
    /// Primaries first, then replicas, as `redis-cli --cluster create` was given them (it pairs
    /// replicas with primaries itself; ask a node for its role).
    public let nodes: [RedisServer]

    public init(primaries: Int = 3, nodeTimeoutMs: Int = 1_000) throws {
        var nodes: [RedisServer] = []
        for _ in 0..<(primaries * 2) {
            // The cluster bus port defaults to the port + 10000, past 65535 for a high free port.
            nodes.append(
                try RedisServer(extraArguments: [
                    "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", "\(freeLoopbackPort())",
                    "--cluster-node-timeout", "\(nodeTimeoutMs)", "--cluster-replica-validity-factor", "0",
                ]))
        }
        self.nodes = nodes
        let create = Process()
        create.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        create.arguments =
            ["redis-cli", "--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "1", "--cluster-yes"]
        create.standardOutput = FileHandle.nullDevice
        create.standardError = FileHandle.nullDevice
        try create.run()
        create.waitUntilExit()
        guard create.terminationStatus == 0 else {
            stop()
            throw RedisServerError.clusterNotFormed("redis-cli --cluster create exited with \(create.terminationStatus)")
        }
    }

    /// The nodes as seeds for ``RedisConfiguration/Cluster``.
    public var seeds: [RedisConfiguration.Endpoint] { nodes.map { .tcp(host: "127.0.0.1", port: $0.port) } }

    /// A client configuration that learns the cluster from its seeds.
    public func configuration(poolSize: Int = 4) -> RedisConfiguration {
        var configuration = nodes[0].configuration(poolSize: poolSize)
        configuration.cluster = .init(seeds: seeds)
        return configuration
    }

    /// Waits until every live node reports `cluster_state:ok` with all 16384 slots served, and
    /// every live replica's link to its primary is up (so `WAIT 1` can be answered).
    public func waitUntilHealthy(timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var healthy = true
            for node in nodes where node.isRunning {
                let client = RedisClient(configuration: node.configuration(poolSize: 1))
                let info = (try? await client.send("CLUSTER", "INFO"))?.string ?? ""
                let replication = (try? await client.send("INFO", "replication"))?.string ?? ""
                if !info.contains("cluster_state:ok") || !info.contains("cluster_slots_ok:16384") { healthy = false }
                if replication.contains("role:slave") && !replication.contains("master_link_status:up") { healthy = false }
                await client.shutdown()
            }
            if healthy { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw RedisServerError.clusterNotFormed("not every node reported cluster_state:ok within \(timeout)")
    }

    /// `body` on a client of each primary `redis` (a client of this cluster) knows, one node at a
    /// time, for what only a node itself answers (`INFO`, `SCAN`, `CONFIG RESETSTAT`).
    public func onEachPrimary<T>(knownBy redis: RedisClient, _ body: (RedisClient) async throws -> T) async throws -> [T] {
        var results: [T] = []
        for endpoint in try await redis.primaries() {
            guard case .tcp(_, let port) = endpoint, let node = nodes.first(where: { $0.port == port }) else { continue }
            let client = RedisClient(configuration: node.configuration(poolSize: 1))
            do {
                results.append(try await body(client))
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
        return results
    }

    /// The node serving `key`'s slot as primary now, asked of a live node.
    public func primary(of key: String) async throws -> RedisServer {
        let asked = nodes.first { $0.isRunning }!
        let client = RedisClient(configuration: asked.configuration(poolSize: 1))
        defer { Task { await client.shutdown() } }
        let slot = ClusterSlot.of(key)
        for entry in try await client.send("CLUSTER", "SLOTS").array ?? [] {
            guard let items = entry.array, let first = items[0].int, let last = items[1].int, (first...last).contains(slot),
                let port = items[2].array?[1].int
            else { continue }
            if let node = nodes.first(where: { $0.port == port }) { return node }
        }
        throw RedisServerError.clusterNotFormed("no primary serves slot \(slot)")
    }

    public func stop() {
        for node in nodes { node.stop() }
    }
}
