import ArgumentParser
import BooxiAPI
import Foundation
import JobQueue
import Operations
import RedisClient
import TrackingConfig
import TrackingCore

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Operate a running system: configuration, queues, dead letters, mappings.",
        subcommands: [
            CheckCommand.self, QueuesCommand.self, DeadCommand.self, LookupCommand.self, TimelineCommand.self, EraseCommand.self,
            BudgetCommand.self, QueueKeysCommand.self, ConfigReferenceCommand.self,
        ])
}

/// Runs `body` with the queries and actions the console shares, for the configured server; an
/// action's refusal (no such booking, an ambiguous one) is printed plainly.
func withOperations(_ options: CommonOptions, _ body: (OperationsStore) async throws -> Void) async throws {
    try await withAdminRedis(options) { config, redis in
        do {
            try await body(OperationsStore(configuration: config, redis: redis))
        } catch let refusal as OperatorActionError {
            throw RuntimeFailure("\(refusal)")
        }
    }
}

/// Who the audit log names for a CLI action.
var cliUser: String { "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "unknown") }

/// Runs `body` with a Redis client for the configured server, printing errors plainly.
func withAdminRedis(_ options: CommonOptions, _ body: (AppConfiguration, RedisClient) async throws -> Void) async throws {
    let config = try await loadConfiguration(options)
    let redis = RedisClient(configuration: config.redis)
    let result = await Result { try await body(config, redis) }
    await redis.shutdown()
    if case .failure(let error as RedisError) = result { throw RuntimeFailure("\(error)") }
    try result.get()
}

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate the configuration and ping Redis; exits non-zero on a problem.")
    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await withAdminRedis(options) { config, redis in
            print("configuration: ok (redis \(config.redis.displayAddress), booxi \(config.booxi.baseURL), \(config.secrets))")
            try await redis.send("PING")
            print("redis: reachable")
        }
    }
}

struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queues", abstract: "Queue depths and the workers with what they hold.")
    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await withOperations(options) { operations in
            let depths = try await operations.queue.depths()
            print("webhooks waiting: \(depths.webhooks)\ncommands waiting: \(depths.commands)")
            print("delayed (retries): \(depths.delayed)\ndead letters: \(depths.dead)")
            for lane in try await operations.workers() {
                let heartbeat = lane.heartbeatAgeMs.map { "heartbeat \($0) ms ago" } ?? "no heartbeat"
                print("worker \(lane.id): \(heartbeat), holding \(lane.holding)")
                for job in lane.jobs { print("  \(job.id) \(job.kind) age \(job.ageMs) ms, attempt \(job.attempt)") }
            }
        }
    }
}

struct BudgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Booxi's call budget across all processes: use, pause, waiting callers and waits per class, background fetches.")
    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await withAdminRedis(options) { config, redis in
            let booxi = config.booxi
            let policy = FairUsePolicy(perSecond: booxi.requestsPerSecond, perMinute: booxi.requestsPerMinute, minSpacingMs: booxi.minSpacingMs)
            print(try await BooxiBudgetReport.read(redis: redis, keyPrefix: config.keyPrefix, policy: policy).text)
            let fetches = try await BookingFetches(redis: redis, keys: MappingKeys(prefix: config.keyPrefix, cluster: redis.isCluster)).counts()
            print("background fetches queued: " + BookingFetches.classes.map { "\($0) \(fetches[$0] ?? 0)" }.joined(separator: ", "))
        }
    }
}

struct DeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead", abstract: "Dead letters: list them (grouped by reason), replay them onto their queue, or purge them.")
    @Argument(help: "list, replay or purge") var action: String
    @Option(help: "Only letters whose reason falls in this group (as `list` prints it).") var reason: String?
    @Option(help: "Only this kind: webhook, cancel, modify, unreadable.") var kind: String?
    @Option(help: "Only these job ids (comma-separated).") var ids: String?
    @Option(help: "list: how many, newest first.") var limit: Int = 50
    @OptionGroup var options: CommonOptions

    func validate() throws {
        guard ["list", "replay", "purge"].contains(action) else { throw ValidationError("action must be list, replay or purge") }
    }

    func run() async throws {
        try await withOperations(options) { operations in
            let filter = DeadLetterFilter(reason: reason, kind: kind)
            let chosen = ids.map { $0.split(separator: ",").map(String.init) }
            switch action {
            case "replay", "purge":
                let counts =
                    action == "replay"
                    ? try await operations.actions.replay(ids: chosen, filter: filter, who: cliUser)
                    : try await operations.actions.purge(ids: chosen, filter: filter, who: cliUser)
                print("\(action == "replay" ? "replayed" : "purged") \(counts.affected)")
            default:
                let (groups, items) = try await operations.deadLetters(filter)
                for group in groups { print("\(group.count)\t\(group.reason)") }
                for item in items.prefix(limit) {
                    let failedAt = Date(timeIntervalSince1970: Double(item.failedAt) / 1000)
                    print(
                        "\(item.id) \(item.kind) attempts=\(item.attempts) failedAt=\(failedAt) reason=\(item.reason)"
                            + (item.lastError.map { " lastError=\($0)" } ?? ""))
                }
            }
        }
    }
}

struct TimelineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline", abstract: "Everything that happened to a booking, found by tracking code, booking id or event id.")
    @Argument(help: "A tracking code, a Booxi booking id, or a webhook event id.") var query: String
    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await withOperations(options) { operations in
            guard let answer = try await operations.timeline(for: query) else {
                print("not found")
                throw ExitCode(1)
            }
            print("booking \(answer.bookingId) (found by \(answer.foundBy)), status \(answer.status ?? "-"), code \(answer.code ?? "-")")
            for entry in answer.entries {
                let at = Date(timeIntervalSince1970: Double(entry.at) / 1000)
                print("\(at) \(entry.type) " + entry.fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            }
        }
    }
}

struct EraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase", abstract: "Erase a booking's personal data everywhere it is kept (a visitor's request); audited.")
    @Option(help: "A tracking code.") var code: String?
    @Option(help: "A Booxi booking id (confirmation number).") var booking: String?
    @OptionGroup var options: CommonOptions

    func run() async throws {
        let reference = try BookingOptions(code: code, booking: booking).reference
        try await withOperations(options) { operations in
            // One line per window read: a long queue shows how far the erase has come.
            let erasure = try await operations.actions.erase(reference, who: cliUser) { step in
                print("  \(step.list): \(step.examined) of \(step.total) read, \(step.removed) removed")
            }
            print(
                "erased \(erasure.bookingId): \(erasure.keysDeleted) keys, \(erasure.jobsRemoved) of \(erasure.jobsExamined) queued jobs, "
                    + "\(erasure.jobRecordsDeleted) command records")
        }
    }
}

/// `--code` or `--booking`, as the booking an erase or a lookup names.
struct BookingOptions {
    let reference: BookingReference

    init(code: String?, booking: String?) throws {
        switch (code, booking) {
        case (let code?, nil): reference = .code(code)
        case (nil, let booking?): reference = .bookingID(booking)
        default: throw ValidationError("give --code or --booking")
        }
    }
}

struct LookupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lookup", abstract: "Show the mapping of a tracking code or a booking id.")
    @Option(help: "A tracking code.") var code: String?
    @Option(help: "A Booxi booking id (confirmation number).") var booking: String?
    @OptionGroup var options: CommonOptions

    func run() async throws {
        let reference = try BookingOptions(code: code, booking: booking).reference
        try await withOperations(options) { operations in
            var record: BookingRecord?
            if case .found(let bookingID, _) = try await operations.resolve(reference) {
                record = try await operations.mappings.record(bookingID: bookingID)
            }
            guard let record else {
                print("not found")
                throw ExitCode(1)
            }
            print("booking \(record.bookingID): code \(record.code), status \(record.status), last event \(record.lastEvent ?? "-")")
            print("cached copy: \(record.cachedBooking == nil ? "none" : "yes"), fetchedAt \(record.fetchedAt.map(String.init) ?? "-")")
        }
    }
}

struct QueueKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue-keys",
        abstract: "Print each queue shard's waiting lists and hash slot (`queue.shards`), e.g. for KEDA's triggers. Needs no Redis.")
    @OptionGroup var options: CommonOptions

    func run() async throws {
        let config = try await loadConfiguration(options)
        for keys in config.queueShards.all {
            print("shard \(keys.shard) slot \(ClusterSlot.of(keys.webhooks)): \(keys.webhooks) \(keys.commands)")
        }
    }
}

struct ConfigReferenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-reference",
        abstract: "Print docs/configuration.md: every key with its environment variable, default and meaning.")

    func run() async throws {
        let path = ProcessInfo.processInfo.environment["BXT_DEFAULTS_FILE"] ?? AppConfiguration.defaultsPath
        guard let defaults = FileManager.default.contents(atPath: path) else { throw RuntimeFailure("cannot read \(path)") }
        do {
            print(try ConfigurationReference.markdown(defaults: defaults), terminator: "")
        } catch let mismatch as ConfigurationReference.Mismatch {
            throw RuntimeFailure("\(mismatch)")
        }
    }
}
