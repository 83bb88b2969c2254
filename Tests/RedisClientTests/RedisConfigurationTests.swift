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

    @Test func rediss_meansTLSWithFullVerification() throws {
        let tls = try RedisConfiguration(url: "rediss://:secret@cache.example.com:6380/2")
        #expect(tls.endpoint == .tcp(host: "cache.example.com", port: 6380) && tls.database == 2)
        #expect(tls.tls == RedisConfiguration.TLS(verify: .full))
        #expect(tls.displayAddress == "tls:cache.example.com:6380/2")
        #expect(try RedisConfiguration(url: "redis://host").tls == nil)
    }

    @Test func sentinelAddressesParseAsHostAndPort() {
        #expect(RedisConfiguration.Endpoint(hostPort: "10.0.0.11:26379") == .tcp(host: "10.0.0.11", port: 26379))
        #expect(RedisConfiguration.Endpoint(hostPort: "[::1]:26379") == .tcp(host: "::1", port: 26379))
        #expect(RedisConfiguration.Endpoint(hostPort: "sentinel") == nil)
        #expect(RedisConfiguration.Endpoint(hostPort: "host:0") == nil && RedisConfiguration.Endpoint(hostPort: ":26379") == nil)
        var configuration = RedisConfiguration()
        configuration.sentinel = .init(sentinels: [.tcp(host: "a", port: 1)], masterName: "bxt-primary")
        #expect(configuration.displayAddress == "sentinel:bxt-primary/0")
    }

    @Test(arguments: ["http://host", "redis://", "redis://host/notanumber", "redis://host:99999", "nonsense", "unix://"])
    func rejectsBadURLs(url: String) {
        #expect(throws: RedisConfiguration.URLError.self) { try RedisConfiguration(url: url) }
    }
}
