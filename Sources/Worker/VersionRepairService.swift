import Logging
import ServiceLifecycle
import TrackingCore

/// Runs ``MappingStore/repairFutureVersions(now:)`` once when the worker starts, then waits for
/// shutdown (a service that returned would end the group). A failure is logged and not retried:
/// the next worker start tries again, since the flag is only set once the repair completed.
struct VersionRepairService: Service {
    let mappings: MappingStore
    let logger: Logger

    func run() async throws {
        do {
            let repaired = try await mappings.repairFutureVersions()
            if repaired > 0 {
                logger.warning("booking records with a version in the future brought down to now", metadata: ["records": "\(repaired)"])
            }
        } catch {
            logger.warning("the one-time repair of future versions did not complete; the next start tries again", metadata: ["error": "\(error)"])
        }
        try? await gracefulShutdown()
    }
}
