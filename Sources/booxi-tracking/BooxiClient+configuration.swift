import BooxiAPI
import TrackingConfig

extension BooxiClient {
    /// The process' Booxi client from configuration, rate limited through Redis; nil (with the
    /// reason) when no Partner API key is configured.
    static func make(configuration: AppConfiguration, role: RoleResources) throws -> BooxiClient {
        guard let key = configuration.secrets.booxiPartnerAPIKey else {
            throw ConfigurationError(key: "secrets.booxiPartnerApiKey", reason: "required by this role (set BOOXI_PARTNER_API_KEY)")
        }
        let booxi = configuration.booxi
        return BooxiClient(
            configuration: .init(
                baseURL: booxi.baseURL, apiKey: key, apiKeyHeader: booxi.apiKeyHeader, requestTimeout: booxi.requestTimeout,
                modifiedBy: booxi.modifiedBy),
            http: role.http,
            limiter: OutboundRateLimiter(
                redis: role.redis, keyPrefix: configuration.keyPrefix, perSecond: booxi.requestsPerSecond, perMinute: booxi.requestsPerMinute),
            logger: role.logger)
    }
}
