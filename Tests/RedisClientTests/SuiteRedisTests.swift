import Foundation
import RedisClient
import TestSupport
import Testing

@Suite("The redis-server the test script provides")
struct SuiteRedisTests {
    /// scripts/test.sh starts a throwaway server and exports its URL; without the script, a
    /// server of our own stands in, so the check runs either way.
    @Test func serverIsRecentEnoughForBLMOVE() async throws {
        var own: RedisServer?
        let url: String
        if let shared = ProcessInfo.processInfo.environment["BXT_TEST_REDIS_URL"] {
            url = shared
        } else {
            own = try RedisServer()
            url = own!.url
        }
        defer { own?.stop() }
        let redis = RedisClient(configuration: try RedisConfiguration(url: url))
        defer { Task { await redis.shutdown() } }
        let info = try await redis.send("INFO", "server").string ?? ""
        let version = info.split(separator: "\r\n").first { $0.hasPrefix("redis_version:") }?.dropFirst(14) ?? ""
        let parts = version.split(separator: ".").compactMap { Int($0) }
        #expect(parts.count == 3)
        #expect(parts[0] > 6 || (parts[0] == 6 && parts[1] >= 2), "BLMOVE needs Redis 6.2+, found \(version)")
    }
}
