import ArgumentParser
import BillingJobs
import CampaignJobs
import ChipJobs
import Docker
import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Logging
import Maturation
import MaturationJobs
import Metrics
import OutboundHTTP
import Postgres
import Prometheus
import RedisClient
import RetentionJobs
import ServiceLifecycle
import Store
import UnixSignals
import WebhookJobs
import Worker

struct Work: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run jobs: fetch from the queues, run handlers concurrently, until SIGTERM or SIGINT.",
    discussion: """
      Run as many processes on as many hosts as you like against one Redis. On SIGTERM the worker
      stops fetching, lets running jobs finish within --grace, and hands the rest back at once.
      """)

  @OptionGroup var global: GlobalOptions

  @Option(
    help:
      "Queues and weights, e.g. campaigns=5,maturation=2,billing=1. Default: every queue of the catalog. Env: WHAGO_QUEUES."
  )
  var queues: String?

  @Option(help: "Handlers running at once. Env: WHAGO_CONCURRENCY.")
  var concurrency: Int = Int(ProcessInfo.processInfo.environment["WHAGO_CONCURRENCY"] ?? "") ?? 64

  @Option(help: "Lease duration: a dead worker's jobs run again after this long.")
  var lease: DurationArgument = DurationArgument(.seconds(15))

  @Option(help: "How long running jobs may finish after SIGTERM before they are handed back.")
  var grace: DurationArgument = DurationArgument(.seconds(25))

  @Option(
    help:
      "Serve Prometheus metrics on this port (unset: off; 0: any free one, named in the log line 'metrics listening on'). Env: WHAGO_METRICS_PORT."
  )
  var metricsPort: Int?

  /// `--metrics-port`, else WHAGO_METRICS_PORT, else none (no metrics server).
  var metricsPortInForce: Int? {
    metricsPort ?? ProcessInfo.processInfo.environment["WHAGO_METRICS_PORT"].flatMap { Int($0) }
  }

  @Option(help: "Address the metrics endpoint binds to.")
  var metricsHost: String = "127.0.0.1"

  @Flag(help: "Do not run the cron scheduler in this process (every worker runs it by default; that is safe).")
  var noScheduler = false

  @Option(
    help: ArgumentHelp(
      "Read cron schedules on a faster clock, for tests and demos: anchor=<Redis ms>,start=<ISO 8601>,speed=<x>. Env: WHAGO_SCHEDULE_CLOCK.",
      visibility: .hidden))
  var scheduleClock: String = ProcessInfo.processInfo.environment["WHAGO_SCHEDULE_CLOCK"] ?? ""

  @Option(help: "How long a tenant's plan is remembered for plan-based rate limits (a plan change applies after it).")
  var planCache: DurationArgument = DurationArgument(.seconds(1))

  @Option(help: "PostgreSQL connections of this worker (campaign sends use one per step). Env: WHAGO_DATABASE_POOL.")
  var databasePool: Int = Int(ProcessInfo.processInfo.environment["WHAGO_DATABASE_POOL"] ?? "") ?? 8

  @Option(help: "How long one call to WAHA may take before it counts as a timeout. Env: WHAGO_WAHA_TIMEOUT.")
  var wahaTimeout: DurationArgument =
    ProcessInfo.processInfo.environment["WHAGO_WAHA_TIMEOUT"].flatMap(DurationArgument.init(argument:))
    ?? DurationArgument(.seconds(15))

  @Option(help: "How long one call to a payment gateway may take. Env: WHAGO_GATEWAY_TIMEOUT.")
  var gatewayTimeout: DurationArgument =
    ProcessInfo.processInfo.environment["WHAGO_GATEWAY_TIMEOUT"].flatMap(DurationArgument.init(argument:))
    ?? DurationArgument(.seconds(30))

  @Option(
    help: """
      How long a payment gateway is trusted to remember an idempotency key (Stripe: 24 h); an attempt \
      retried after that is looked up at the gateway before it is sent again. Env: WHAGO_GATEWAY_KEY_WINDOW.
      """)
  var gatewayKeyWindow: DurationArgument =
    ProcessInfo.processInfo.environment["WHAGO_GATEWAY_KEY_WINDOW"].flatMap(DurationArgument.init(argument:))
    ?? DurationArgument(.seconds(86_400))

  @Option(help: "How often a campaign sender whose chip is not WORKING looks again. Env: WHAGO_CHIP_RECHECK.")
  var chipRecheck: DurationArgument =
    ProcessInfo.processInfo.environment["WHAGO_CHIP_RECHECK"].flatMap(DurationArgument.init(argument:))
    ?? DurationArgument(.seconds(30))

  @Option(help: "A name for this worker in logs and leases (default: host-pid).")
  var name: String?

  func validate() throws {
    guard (1...256).contains(databasePool) else { throw ValidationError("--database-pool must be 1 to 256") }
    guard (1...10_000).contains(concurrency) else { throw ValidationError("--concurrency must be 1 to 10000") }
    guard lease.duration >= .milliseconds(500) else { throw ValidationError("--lease must be at least 500ms") }
    if let metricsPort = metricsPortInForce, !(0...65535).contains(metricsPort) {
      throw ValidationError("--metrics-port must be 0 to 65535 (0: any free port)")
    }
    if !scheduleClock.isEmpty, ScheduleClock(scheduleClock) == nil {
      throw ValidationError(
        "--schedule-clock must look like anchor=1796500000000,start=2026-12-01T00:00:00Z,speed=3600")
    }
  }

  func run() async throws {
    let catalog = try global.catalog()
    let served = try parseQueues(catalog: catalog)
    let logger = global.logger(label: "whago.worker")
    let registryPrometheus = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registryPrometheus))

    let redis = try global.client(quiet: false)
    var doorbellOptions = RedisClient.Options()
    doorbellOptions.commandTimeout = .seconds(5)
    let doorbell = RedisClient(url: try global.redisURLValue(), options: doorbellOptions, logger: logger)
    let broker = Broker(redis: redis, durability: catalog.durability)

    var handlers = HandlerRegistry()
    DiagnosticJobs.register(in: &handlers)
    handlers.treatAsOutage { ($0 as? PostgresError)?.isOutage == true }

    // Job types that read PostgreSQL (plans, chips) and call out over HTTP run in workers that have
    // WHAGO_DATABASE_URL; without it a worker runs the queue-only types (and the diagnostics).
    var planLimits: PlanLimitsProvider?
    var store: Store?
    var http: HTTPClient?
    var gatewayHTTP: HTTPClient?
    let readsPlans = catalog.jobs.values.contains { $0.limits.contains(where: \.needsPlan) }
    if global.databaseURL.isEmpty {
      if readsPlans {
        logger.warning("job types with plan-based limits will wait: set WHAGO_DATABASE_URL so workers can read plans")
      }
    } else {
      let opened = try await openStore(logger: logger)
      // Requests to addresses a tenant chose (its WAHA, its webhooks) reach no internal network
      // the operator has not allowed; the gateways, which operators configure, have a client of
      // their own.
      var tenantFacing = HTTPClient.Options()
      do {
        tenantFacing.addressPolicy = try AddressPolicy(environment: ProcessInfo.processInfo.environment)
      } catch {
        throw ValidationError("\(AddressPolicy.environmentVariable): \(error)")
      }
      let client = HTTPClient(options: tenantFacing)
      let gatewayClient = HTTPClient()
      store = opened
      http = client
      gatewayHTTP = gatewayClient
      planLimits =
        PlanLimitsCache(lifetime: planCache.duration) { tenant in
          guard let access = try await opened.tenantAccess(named: tenant) else { throw TenantError.notFound(tenant) }
          return access.plan.limitValues
        }.provider
      let environment = ProcessInfo.processInfo.environment
      let fleet: ContainerFleet
      do {
        // whago's own containers: their WAHA is reached without the tenant-facing address policy.
        let trusted = HTTPClient()
        fleet = ContainerFleet(
          store: opened, docker: try DockerClient(environment: environment, http: trusted), http: trusted,
          settings: try ChipConnectionSettings(environment: environment))
      } catch {
        throw ValidationError("\(error)")
      }
      ChipJobs.register(in: &handlers, store: opened, http: client, catalog: catalog, fleet: fleet)
      CampaignJobs.register(
        in: &handlers, store: opened, http: client, launcher: CampaignLauncher(broker: broker, catalog: catalog),
        wahaTimeout: wahaTimeout.duration, chipRecheck: chipRecheck.duration)
      let phrases: PhraseBank
      do {
        phrases = try PhraseBank.load(directory: URL(fileURLWithPath: try global.jobsDirectory()).path)
      } catch {
        logger.warning(
          "no usable phrases.json beside the catalog; warm-ups use a short built-in list",
          metadata: ["error": "\(error)"])
        phrases = .fallback
      }
      BillingJobs.register(
        in: &handlers, store: opened,
        gateways: BillingGateways(
          environment: ProcessInfo.processInfo.environment, http: gatewayClient, timeout: gatewayTimeout.duration,
          keyWindow: gatewayKeyWindow.duration),
        catalog: catalog, clock: ScheduleClock(scheduleClock) ?? .redis)
      MaturationJobs.register(
        in: &handlers, store: opened, http: client, catalog: catalog, clock: ScheduleClock(scheduleClock) ?? .redis,
        phrases: phrases, wahaTimeout: wahaTimeout.duration)
      WebhookJobs.register(in: &handlers, store: opened, http: client, catalog: catalog)
      RetentionJobs.register(in: &handlers, store: opened, catalog: catalog)
    }

    let host = ProcessInfo.processInfo.hostName
    let worker = Worker(
      configuration: WorkerConfiguration(
        queues: served, concurrency: concurrency, lease: lease.duration, gracePeriod: grace.duration,
        name: name ?? "\(host)-\(getpid())"),
      broker: broker, doorbell: Broker(redis: doorbell), catalog: catalog, registry: handlers, planLimits: planLimits,
      logger: logger)

    var services: [any Service] = [worker]
    if !catalog.schedules.isEmpty && !noScheduler {
      let clock = ScheduleClock(scheduleClock) ?? .redis
      if !clock.isRedisTime { logger.warning("cron schedules run on a test clock", metadata: ["clock": "\(clock)"]) }
      services.append(
        Scheduler(broker: broker, catalog: catalog, clock: clock, logger: global.logger(label: "whago.scheduler")))
    }
    if let metricsPort = metricsPortInForce {
      services.append(
        MetricsServer.make(host: metricsHost, port: metricsPort, registry: registryPrometheus, logger: logger) {
          [metricsHost] bound in
          logger.notice("metrics listening on http://\(metricsHost):\(bound)/metrics")
        })
    }
    let group = ServiceGroup(
      configuration: .init(
        services: services.map { .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup) },
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
    // Every C library's thread joined before the process exits (see JoinableThread).
    await redis.shutdown()
    await doorbell.shutdown()
    await store?.pool.shutdown()
    await http?.shutdown()
    await gatewayHTTP?.shutdown()
  }

  /// A worker started while PostgreSQL is out of reach (restarted during an outage) waits for it
  /// rather than exiting: a supervisor would only start it again, and again, until PostgreSQL came
  /// back. A database that answers with the wrong schema still stops it at once.
  private func openStore(logger: Logger) async throws -> Store {
    var waiting = false
    while true {
      do {
        let store = try await global.store(poolSize: databasePool, quiet: false)
        if waiting { logger.notice("PostgreSQL answers; starting") }
        return store
      } catch let error as PostgresError where error.isOutage {
        if !waiting {
          logger.warning(
            "PostgreSQL is out of reach; waiting for it before starting", metadata: ["error": "\(error)"])
        }
        waiting = true
        try await Task.sleep(for: .seconds(1))
      }
    }
  }

  private func parseQueues(catalog: JobCatalog) throws -> [(name: String, weight: Int)] {
    guard let queues = queues ?? ProcessInfo.processInfo.environment["WHAGO_QUEUES"], !queues.isEmpty else {
      return catalog.queueNames.map { ($0, catalog.queue($0).weight) }
    }
    return try queues.split(separator: ",").map { item in
      let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
      let name = parts[0]
      guard (try? JobSpec(type: "x", queue: name).validateQueueName()) != nil else {
        throw ValidationError("--queues: '\(name)' is not a valid queue name")
      }
      var weight = catalog.queues[name]?.weight ?? 1
      if parts.count == 2 {
        guard let w = Int(parts[1]), w >= 1 else {
          throw ValidationError("--queues: weight of '\(name)' must be a whole number of at least 1")
        }
        weight = w
      }
      return (name, weight)
    }
  }
}
