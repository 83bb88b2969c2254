import AsyncHTTPClient
import BooxiAPI
import Logging
import RedisClient
import Testing
import TrackingCore
@testable import Worker

/// service-lifecycle logs each service by its description (at `debug`, and at `error` when one
/// ends unexpectedly): the fetcher, the Booxi client it holds and the Redis client under both
/// never print the Partner key or the Redis password, whichever way they are rendered.
@Suite("The worker's services print no secret")
struct BookingFetcherRedactionTests {
    static let partnerKey = "PK-partner-key-in-clear-7f3a"
    static let redisPassword = "redis-password-in-clear-93c4"

    @Test func noRenderingOfTheFetcherOrTheBooxiClientShowsASecret() async throws {
        let redis = RedisClient(configuration: RedisConfiguration(password: Secret(Self.redisPassword)))
        let configuration = BooxiClient.Configuration(baseURL: "http://127.0.0.1:9/booking/v1", apiKey: Secret(Self.partnerKey))
        let booxi = BooxiClient(
            configuration: configuration, http: HTTPClient.shared,
            scheduler: BooxiScheduler(
                redis: redis, keyPrefix: "bxt:", policy: FairUsePolicy(), requestTimeout: .seconds(1), logger: Logger(label: "test")),
            logger: Logger(label: "test"))
        let fetcher = BookingFetcher(
            fetches: BookingFetches(redis: redis, keys: MappingKeys()),
            mappings: MappingStore(redis: redis, keys: MappingKeys(), retentionSeconds: 60),
            booxi: booxi, concurrency: 2, logger: Logger(label: "test"))
        for value in [
            everyRendering(of: fetcher), everyRendering(of: booxi), everyRendering(of: configuration), everyRendering(of: redis.configuration),
        ] {
            #expect(!value.contains(Self.partnerKey) && !value.contains(Self.redisPassword))
        }
        #expect(String(describing: fetcher) == "BookingFetcher(concurrency: 2)")
        await redis.shutdown()
    }

    func everyRendering(of value: some Any) -> String {
        var dumped = ""
        dump(value, to: &dumped)
        return [String(describing: value), "\(value)", String(reflecting: value), dumped].joined(separator: "\n")
    }
}
