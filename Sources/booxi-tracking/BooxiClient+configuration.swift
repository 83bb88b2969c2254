import BooxiAPI
import TrackingConfig

extension BooxiClient {
    /// The process' Booxi client from configuration, its calls admitted by the budget shared
    /// through Redis; fails (naming the key) when no Partner API key is configured. The client's
    /// ``BooxiClient/scheduler`` must run among the role's services, first in the list.
    static func make(configuration: AppConfiguration, role: RoleResources) throws -> BooxiClient {
        guard let key = configuration.secrets.booxiPartnerAPIKey else {
            throw ConfigurationError(key: "secrets.booxiPartnerApiKey", reason: "required by this role (set BOOXI_PARTNER_API_KEY)")
        }
        let booxi = configuration.booxi
        return BooxiClient(
            configuration: .init(
                baseURL: booxi.baseURL, apiKey: key, apiKeyHeader: booxi.apiKeyHeader, requestTimeout: booxi.requestTimeout,
                modifiedBy: booxi.modifiedBy, maxQueueWait: booxi.maxQueueWait),
            http: role.http,
            scheduler: BooxiScheduler(
                redis: role.redis, keyPrefix: configuration.keyPrefix,
                policy: FairUsePolicy(perSecond: booxi.requestsPerSecond, perMinute: booxi.requestsPerMinute, minSpacingMs: booxi.minSpacingMs),
                requestTimeout: booxi.requestTimeout, logger: role.logger),
            logger: role.logger)
    }
}
