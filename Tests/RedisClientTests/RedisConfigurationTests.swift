import RedisClient
import Testing

@Suite("Redis URL parsing")
struct RedisConfigurationTests {
    @Test func parsesTCPURLsWithCredentialsAndDatabase() throws {
        let plain = try RedisConfiguration(url: "redis://localhost")
        #expect(plain.endpoint == .tcp(host: "localhost", port: 6379))
        #expect(plain.database == 0 && plain.password == nil && plain.username == nil)

        let full = try RedisConfiguration(url: "redis://app:p%40ss@10.0.0.5:6380/4")
        #expect(full.endpoint == .tcp(host: "10.0.0.5", port: 6380))
        #expect(full.username == "app" && full.password == "p@ss" && full.database == 4)

        let passwordOnly = try RedisConfiguration(url: "redis://:secret@host:1/1")
        #expect(passwordOnly.username == nil && passwordOnly.password == "secret")
        #expect(!passwordOnly.displayAddress.contains("secret"))
    }

    @Test func parsesUnixSocketURLs() throws {
        let socket = try RedisConfiguration(url: "unix:///run/redis.sock?db=3")
        #expect(socket.endpoint == .unixSocket(path: "/run/redis.sock"))
        #expect(socket.database == 3)
    }

    @Test(arguments: ["http://host", "redis://", "redis://host/notanumber", "redis://host:99999", "nonsense", "unix://"])
    func rejectsBadURLs(url: String) {
        #expect(throws: RedisConfiguration.URLError.self) { try RedisConfiguration(url: url) }
    }
}
