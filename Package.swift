// swift-tools-version: 6.0
import PackageDescription

let upcoming: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

/// The whago executable is linked by the toolchain's lld with packed relative relocations (RELR,
/// glibc 2.36 and later) and without exporting every Swift symbol to the dynamic table: the loader
/// reads 3 MiB fewer relocation and symbol pages at every start, and each process keeps that much
/// less resident (a worker after a concurrency-64 drain: 33.5-33.8 MiB against 39.3-39.6). Nothing
/// looks its own symbols up at run time; the Swift backtracer reads the file's symbol table.
///
/// Release builds also lay the functions out in Linking/whago.order (scripts/order-symbols writes
/// it): what a worker runs, packed together at the start of the code, instead of spread over its
/// 29 MB. The kernel maps code 64 KiB or a page-cache folio at a time around each page touched, so
/// scattered functions kept 14.3-17.5 MB of code resident after a drain; packed, 10.0-10.9 MB (RSS
/// 28.3-28.9 MiB against 33.5-33.8). The Swift runtime and Foundation are built one section per
/// function, so their functions move one by one; our modules and packages move a source file at a
/// time (`-Xswiftc -function-sections` on every build command saves 2 MB more). A name the file
/// lists that the build no longer has is skipped without a warning; a function it misses costs
/// memory, never correctness.
let leanExecutable: [LinkerSetting] = [
  .unsafeFlags(
    ["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic"],
    .when(platforms: [.linux])),
  .unsafeFlags(
    [
      "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Linking/whago.order",
      "-Xlinker", "--no-warn-symbol-ordering",
    ],
    .when(platforms: [.linux], configuration: .release)),
]

let package = Package(
  name: "whago-jobs",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "whago", targets: ["whago"])
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
    .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
  ],
  targets: [
    // C libraries, each wrapped once by the module that owns it.
    // No pkgConfig: hiredis's .pc adds -D_FILE_OFFSET_BITS=64, which SwiftPM rejects with a warning;
    // its header sits in the default include path.
    .systemLibrary(
      name: "CHiredis",
      providers: [.apt(["libhiredis-dev"])]),
    .systemLibrary(
      name: "CLibpq", pkgConfig: "libpq",
      providers: [.apt(["libpq-dev"])]),
    .systemLibrary(
      name: "CCurl", pkgConfig: "libcurl",
      providers: [.apt(["libcurl4-openssl-dev"])]),
    .target(name: "CCurlShim", dependencies: ["CCurl"]),
    // Joinable POSIX threads for the C libraries' blocking calls.
    .target(name: "NativeThreads", swiftSettings: upcoming),
    // What crosses the wire: the one JSON value type, JSON Pointers, secrets compared in constant time.
    .target(name: "Wire", swiftSettings: upcoming),
    // Outbound HTTP over libcurl's multi interface, on its own thread.
    .target(
      name: "OutboundHTTP",
      dependencies: ["CCurl", "CCurlShim", "NativeThreads"],
      swiftSettings: upcoming),

    // Redis over hiredis: connections, pipelining, scripts, reconnect.
    .target(
      name: "RedisClient",
      dependencies: ["CHiredis", "NativeThreads", .product(name: "Logging", package: "swift-log")],
      swiftSettings: upcoming),
    // WAHA's REST API (one tenant's WhatsApp container), over OutboundHTTP.
    .target(
      name: "WAHA",
      dependencies: ["OutboundHTTP"],
      swiftSettings: upcoming),
    // Docker Engine API (the WAHA containers), over OutboundHTTP through a unix socket or TCP.
    .target(
      name: "Docker",
      dependencies: ["OutboundHTTP"],
      swiftSettings: upcoming),
    // Stripe, Mercado Pago and PayPal: off-session charges and webhook signatures, over OutboundHTTP.
    .target(
      name: "Payments",
      dependencies: ["OutboundHTTP", .product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: upcoming),
    // The daily retention sweep: personal data past the plan's retention, old webhook ids, dead letters.
    .target(
      name: "RetentionJobs",
      dependencies: [
        "JobContracts", "JobQueue", "JobCatalog", "Store", "CampaignStore",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: upcoming),
    // Outbound webhooks: the dispatcher from the event feed and the signed delivery.
    .target(
      name: "WebhookJobs",
      dependencies: [
        "JobContracts", "JobQueue", "JobCatalog", "Store", "OutboundHTTP", "Wire",
        .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: upcoming),
    // Jobs about chips (WAHA sessions): the health check, connecting a chip (container, proxy,
    // session), releasing one.
    .target(
      name: "ChipJobs",
      dependencies: [
        "JobContracts", "JobQueue", "JobCatalog", "Worker", "Store", "WAHA", "OutboundHTTP", "Docker",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: upcoming),
    // Campaign sends: the job that launches a campaign's senders and the per-chip sender.
    .target(
      name: "CampaignJobs",
      dependencies: [
        "CampaignStore",
        "JobContracts", "JobQueue", "JobCatalog", "Worker", "Store", "WAHA", "OutboundHTTP", "Campaigns",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: upcoming),
    // Chip warm-up, pure: the daily ramp, when a day's messages go out, the phrase bank.
    .target(
      name: "Maturation",
      swiftSettings: upcoming),
    // Chip warm-up jobs: the tick that plans each day and the exchange that sends one message.
    .target(
      name: "MaturationJobs",
      dependencies: [
        "MaturationStore", "CampaignStore",
        "JobContracts", "JobQueue", "JobCatalog", "Worker", "Store", "WAHA", "OutboundHTTP", "Campaigns", "Maturation",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: upcoming),
    // Recurring billing: the sweep that finds renewals due and the renewal that charges one.
    .target(
      name: "BillingJobs",
      dependencies: [
        "BillingStore", "CampaignStore",
        "JobContracts", "JobQueue", "JobCatalog", "Worker", "Store", "Payments", "OutboundHTTP", "CampaignJobs",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: upcoming),
    // PostgreSQL over libpq: a pool of connections on their own threads, parameterized queries.
    .target(
      name: "Postgres",
      dependencies: ["CLibpq", "NativeThreads", "Wire", .product(name: "Logging", package: "swift-log")],
      swiftSettings: upcoming),
    // The system of record's core: the schema and its migrations, the Store handle and its one
    // `recordEvent`, plans, tenants and their access, API keys, chips.
    .target(
      name: "Store",
      dependencies: ["Wire", "Postgres", "Campaigns", .product(name: "Crypto", package: "swift-crypto")],
      resources: [
        .embedInCode("Migrations/0001_core.sql"), .embedInCode("Migrations/0002_campaign_sending.sql"),
        .embedInCode("Migrations/0003_maturation_limits.sql"),
        .embedInCode("Migrations/0004_claim_cursor.sql"), .embedInCode("Migrations/0005_run_fences.sql"),
        .embedInCode("Migrations/0006_campaign_launches.sql"), .embedInCode("Migrations/0007_payment_keys.sql"),
        .embedInCode("Migrations/0008_exchange_sending.sql"), .embedInCode("Migrations/0009_event_feed.sql"),
        .embedInCode("Migrations/0010_webhook_endpoints.sql"),
        .embedInCode("Migrations/0011_chip_reachability.sql"),
        .embedInCode("Migrations/0012_subscription_cancellation.sql"),
        .embedInCode("Migrations/0013_plan_changes.sql"),
        .embedInCode("Migrations/0014_read_only_chips.sql"),
        .embedInCode("Migrations/0015_credit_purchases.sql"),
        .embedInCode("Migrations/0016_personal_data.sql"),
        .embedInCode("Migrations/0017_dashboard_sessions.sql"),
        .embedInCode("Migrations/0018_plan_job_caps.sql"),
        .embedInCode("Migrations/0019_dashboard_actions.sql"),
        .embedInCode("Migrations/0020_chip_connection.sql"),
        .embedInCode("Migrations/0021_proxy_protocol.sql"),
        .embedInCode("Migrations/0022_container_liveness.sql"),
        .embedInCode("Migrations/0023_early_message_acks.sql"),
        .embedInCode("Migrations/0024_in_flight_messages.sql"),
        .embedInCode("Migrations/0025_record_sent.sql"),
      ],
      swiftSettings: upcoming),
    // Campaigns in PostgreSQL: drafts, start/pause/resume/cancel, the claim and fencing of each
    // message, progress, credits (the reserve and refund are one transaction with the claim, and a
    // credit pack resumes what ran out) and WAHA's delivery events.
    .target(
      name: "CampaignStore",
      dependencies: ["Store", "Wire", "Postgres"],
      swiftSettings: upcoming),
    // Billing in PostgreSQL: subscriptions, invoices, charge attempts with their idempotency keys,
    // the dunning rule, gateway webhook deliveries; a payment resumes campaigns paused by suspension.
    .target(
      name: "BillingStore",
      dependencies: ["Store", "CampaignStore", "Wire", "Postgres"],
      swiftSettings: upcoming),
    // Chip warm-up in PostgreSQL: programs, each day's planned exchanges and the report.
    .target(
      name: "MaturationStore",
      dependencies: ["Store", "Wire", "Postgres"],
      swiftSettings: upcoming),
    // The queue engine: every job state change as one Lua script.
    .target(
      name: "JobQueue",
      dependencies: ["RedisClient"],
      swiftSettings: upcoming),
    // The declarative catalog in jobs/: job types, policies, queues.
    .target(
      name: "JobCatalog",
      dependencies: ["Wire", "JobQueue"],
      swiftSettings: upcoming),
    // Job types as contracts: per type, its parameters (shared by who enqueues and who runs it) and
    // a typed enqueue; the handler protocol and registry; the campaign launcher.
    .target(
      name: "JobContracts",
      dependencies: ["JobQueue", "JobCatalog", "Wire", .product(name: "Logging", package: "swift-log")],
      swiftSettings: upcoming),
    // The worker runtime: fetch, run, ack, recover, shut down gracefully.
    .target(
      name: "Worker",
      dependencies: [
        "Wire", "JobQueue", "JobCatalog", "JobContracts", "RedisClient",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: upcoming),
    // The HTTP enqueuer (`whago serve`): authenticated, tenant-isolated job submission.
    .target(
      name: "Enqueuer",
      dependencies: [
        "CampaignStore", "BillingStore", "MaturationStore",
        "Wire", "JobQueue", "JobCatalog", "JobContracts", "Store", "Postgres", "RedisClient", "Campaigns", "Payments",
        "OutboundHTTP", "Docker", "WAHA",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ],
      resources: [.embedInCode("openapi.yaml")],
      swiftSettings: upcoming),
    // `whago sim waha`: WAHA's REST API and webhooks, simulated for the demo and the tests.
    .target(
      name: "WAHASimulator",
      dependencies: [
        "Wire",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: upcoming),
    // `whago sim payments`: Stripe, Mercado Pago and PayPal, simulated with idempotency and a charge log.
    .target(
      name: "PaymentsSimulator",
      dependencies: [
        "Payments", "OutboundHTTP", "Wire",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: upcoming),
    // `whago sim docker`: the Docker Engine API subset we use, each container a real child process.
    .target(
      name: "DockerSimulator",
      dependencies: [
        "NativeThreads", "Wire",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: upcoming),
    // The campaign domain: phone numbers, templates, recipient lists, human pacing, opt-outs. Pure.
    .target(
      name: "Campaigns",
      dependencies: [],
      swiftSettings: upcoming),
    .executableTarget(
      name: "whago",
      dependencies: [
        "JobQueue", "JobCatalog", "JobContracts", "Worker", "RedisClient", "Postgres", "Store", "CampaignStore",
        "BillingStore", "MaturationStore", "WebhookJobs", "RetentionJobs", "Campaigns",
        "Enqueuer",
        "WAHASimulator", "ChipJobs", "PaymentsSimulator", "Docker", "DockerSimulator",
        "CampaignJobs", "MaturationJobs", "Maturation", "BillingJobs", "Payments",
        "OutboundHTTP",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"),
      ],
      swiftSettings: upcoming,
      linkerSettings: leanExecutable),

    .target(
      name: "TestSupport",
      dependencies: [
        "RedisClient", "JobQueue", "Postgres", .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      path: "Tests/TestSupport",
      swiftSettings: upcoming),
    .testTarget(
      name: "JobQueueTests",
      dependencies: ["JobQueue", "JobCatalog", "RedisClient", "TestSupport"],
      swiftSettings: upcoming),
    .testTarget(
      name: "StoreTests",
      dependencies: [
        "CampaignStore", "BillingStore", "MaturationStore",
        "JobContracts", "Postgres", "Store", "RedisClient", "TestSupport", "CampaignJobs", "JobQueue", "JobCatalog",
        "Wire",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: upcoming),
    .testTarget(
      name: "EnqueuerTests",
      dependencies: [
        "CampaignStore",
        "BillingStore", "JobContracts", "JobQueue", "RedisClient", "Postgres", "TestSupport", "Enqueuer", "Store",
        "JobCatalog", "Wire", "Campaigns", "Payments", "OutboundHTTP",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ],
      swiftSettings: upcoming),
    .testTarget(
      name: "OutboundHTTPTests",
      dependencies: [
        "OutboundHTTP", "TestSupport", .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: upcoming),
    .testTarget(
      name: "WAHAClientTests",
      dependencies: ["WAHA", "OutboundHTTP", "TestSupport"],
      swiftSettings: upcoming),
    .testTarget(
      name: "DeploymentTests",
      swiftSettings: upcoming),
    .testTarget(
      name: "WireTests",
      dependencies: ["Wire"],
      swiftSettings: upcoming),
    .testTarget(
      name: "JobCatalogTests",
      dependencies: ["JobCatalog", "JobQueue"],
      swiftSettings: upcoming),
    .testTarget(
      name: "WorkerTests",
      dependencies: [
        "JobContracts", "JobQueue", "JobCatalog", "Worker", "RedisClient", "TestSupport", "Postgres", "Wire",
        "Store", "CampaignStore", "WebhookJobs", "RetentionJobs", "OutboundHTTP",
        .product(name: "Logging", package: "swift-log"), .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: upcoming),
    .testTarget(
      name: "SimulatorTests",
      dependencies: [
        "Wire",
        "TestSupport", "WAHASimulator",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: upcoming),
    .testTarget(
      name: "PaymentsTests",
      dependencies: [
        "Payments", "PaymentsSimulator", "OutboundHTTP", "TestSupport",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: upcoming),
    .testTarget(
      name: "DockerTests",
      dependencies: [
        "Docker", "DockerSimulator", "OutboundHTTP", "TestSupport",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: upcoming),
    .testTarget(
      name: "MaturationRulesTests",
      dependencies: ["Maturation", "TestSupport"],
      swiftSettings: upcoming),
    .testTarget(
      name: "CampaignTests",
      dependencies: ["Campaigns", "TestSupport"],
      swiftSettings: upcoming),
    .testTarget(
      name: "EndToEndTests",
      dependencies: ["JobQueue", "Postgres", "RedisClient", "TestSupport", "Payments"],
      swiftSettings: upcoming),
  ],
  swiftLanguageModes: [.v6]
)
