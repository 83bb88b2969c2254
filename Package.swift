// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "booxi-tracking",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "booxi-tracking", targets: ["booxi-tracking"]),
        .executable(name: "booxi-tracking-bench", targets: ["Bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
    ],
    targets: [
        // hiredis 0.14 from Debian's libhiredis-dev.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // Our Redis client: connection, pipeline, pool, scripts, typed errors.
        .target(
            name: "RedisClient",
            dependencies: [
                "CHiredis",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The per-minute series every process adds to in Redis, fed by the metrics already recorded.
        .target(
            name: "PipelineStats",
            dependencies: [
                "RedisClient",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What operators look at and repair, shared by the console and the admin CLI: dead letters,
        // workers, retries, timelines, erase, audit.
        .target(
            name: "Operations",
            dependencies: [
                "RedisClient", "JobQueue", "TrackingCore", "TrackingConfig", "PipelineStats",
            ]
        ),
        // Typed configuration read once at start (files < environment, secrets redacted).
        .target(
            name: "TrackingConfig",
            dependencies: [
                "RedisClient", "JobQueue",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The queue, its one boundary: job kinds, producers, the worker driver (Redis and in-memory), dead letters, recovery.
        .target(
            name: "JobQueue",
            dependencies: [
                "RedisClient",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Booxi's data as both sides use it: bookings, merchants, services, slots, call classes. No I/O.
        .target(
            name: "BooxiModels",
            dependencies: [
                // Foundation only: nothing here talks to Booxi or Redis.
            ]
        ),
        // Talks to Booxi's Booking API (or the simulator), every call through the shared budget.
        .target(
            name: "BooxiAPI",
            dependencies: [
                "BooxiModels", "RedisClient",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Domain: tracking codes, webhook events, mapping store, command jobs.
        .target(
            name: "TrackingCore",
            dependencies: [
                "RedisClient", "JobQueue", "BooxiModels",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Shared HTTP pieces for every role: health, readiness, metrics, JSON errors, the edge guard.
        .target(
            name: "HTTPSupport",
            dependencies: [
                "TrackingConfig", "PipelineStats",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The webhook ingress role.
        .target(
            name: "Ingress",
            dependencies: [
                "RedisClient", "JobQueue", "TrackingConfig", "TrackingCore", "HTTPSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The worker role: lanes, housekeeping, handlers, booking fetcher.
        .target(
            name: "Worker",
            dependencies: [
                "RedisClient", "JobQueue", "TrackingCore", "BooxiAPI", "BooxiModels", "TrackingConfig", "HTTPSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The read API role and the tracking page.
        .target(
            name: "ReadAPI",
            dependencies: [
                "RedisClient", "JobQueue", "TrackingCore", "BooxiAPI", "BooxiModels", "TrackingConfig", "HTTPSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            // The tracking page: static HTML, CSS and plain JavaScript, no Node toolchain.
            resources: [.copy("Page")]
        ),
        // The `console` role: the operations console (pages, JSON API, login) on its own listener.
        .target(
            name: "Console",
            dependencies: [
                "RedisClient", "JobQueue", "TrackingConfig", "HTTPSupport", "Operations",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The console's pages: static HTML, CSS and plain JavaScript, no build step.
            resources: [.copy("Page")]
        ),
        // A Booxi look-alike with fair use and fault injection (dev and tests).
        .target(
            name: "BooxiSimulator",
            dependencies: [
                "BooxiAPI", "BooxiModels", "HTTPSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The one binary: every role, dev, simulator and admin commands.
        .executableTarget(
            name: "booxi-tracking",
            dependencies: [
                "RedisClient", "TrackingConfig", "JobQueue", "TrackingCore", "BooxiAPI", "Ingress", "Worker", "ReadAPI", "BooxiSimulator",
                "HTTPSupport",
                "PipelineStats", "Operations", "Console",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Measurements for scripts/bench.sh (never timed unit tests).
        .executableTarget(
            name: "Bench",
            dependencies: [
                "RedisClient", "JobQueue", "TrackingCore", "BooxiModels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Fuzz targets: each checks one parser against arbitrary bytes and must never trap. The
        // libFuzzer executables (`scripts/fuzz.sh`) and `FuzzTargetsTests` (the corpus replayed) run them.
        .target(
            name: "FuzzTargets",
            dependencies: [
                "Ingress", "TrackingCore", "BooxiModels", "HTTPSupport", "TrackingConfig",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Test helpers: throwaway redis-server instances, free ports, child processes.
        .target(
            name: "TestSupport",
            dependencies: [
                "RedisClient", "TrackingConfig",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "RedisClientTests",
            dependencies: [
                "RedisClient", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "TrackingConfigTests",
            dependencies: [
                "TrackingConfig", "RedisClient",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "JobQueueTests",
            dependencies: [
                "JobQueue", "TestSupport", "RedisClient",
            ]
        ),
        .testTarget(
            name: "BooxiAPITests",
            dependencies: [
                "BooxiAPI", "BooxiModels", "BooxiSimulator", "TestSupport", "RedisClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(
            name: "BooxiModelsTests",
            dependencies: [
                "BooxiModels", "TestSupport",
            ]
        ),
        .testTarget(
            name: "BooxiSimulatorTests",
            dependencies: [
                "BooxiSimulator", "BooxiAPI",
            ]
        ),
        .testTarget(
            name: "PipelineStatsTests",
            dependencies: [
                "PipelineStats", "RedisClient", "TestSupport",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "OperationsTests",
            dependencies: [
                "Operations", "JobQueue", "RedisClient", "TestSupport", "TrackingCore",
            ]
        ),
        .testTarget(
            name: "ConsoleTests",
            dependencies: [
                "Console", "RedisClient", "TestSupport",
            ]
        ),
        .testTarget(
            name: "TrackingCoreTests",
            dependencies: [
                "TrackingCore", "JobQueue", "BooxiModels", "RedisClient", "TestSupport",
            ]
        ),
        .testTarget(
            name: "HTTPSupportTests",
            dependencies: [
                "HTTPSupport", "TrackingConfig",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "IngressTests",
            dependencies: [
                "Ingress", "HTTPSupport", "JobQueue", "TestSupport", "RedisClient", "TrackingConfig",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "BudgetTests",
            dependencies: [
                "Ingress", "Worker", "JobQueue", "TrackingCore", "BooxiModels", "BooxiAPI", "TestSupport", "RedisClient",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: [
                "Worker", "JobQueue", "TrackingCore", "BooxiAPI", "BooxiModels", "TestSupport", "RedisClient",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ReadAPITests",
            dependencies: [
                "ReadAPI", "Ingress", "Worker", "BooxiAPI", "BooxiModels", "BooxiSimulator", "TrackingCore", "JobQueue", "TestSupport", "RedisClient",
                "TrackingConfig", "HTTPSupport",
                "Console", "Operations",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "FuzzTargetsTests",
            dependencies: [
                "FuzzTargets"
            ]
        ),
    ]
)

// The libFuzzer executable (one for every target), declared only for `scripts/fuzz.sh` (BXT_FUZZ=1):
// it links only under `-sanitize=fuzzer`, so normal builds and CI never see it.
if Context.environment["BXT_FUZZ"] == "1" {
    package.targets.append(.executableTarget(name: "Fuzz", dependencies: ["FuzzTargets"], path: "Sources/Fuzz"))
}
