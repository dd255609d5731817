import ArgumentParser
import ChipJobs
import Docker
import Enqueuer
import Foundation
import JobCatalog
import JobQueue
import Logging
import Metrics
import OutboundHTTP
import Payments
import Postgres
import Prometheus
import RedisClient
import ServiceLifecycle
import Store
import UnixSignals
import Worker

struct Serve: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Serve the HTTP enqueuer: job submission for WHAGO's backend and its tenants.",
    discussion: """
      Routes: POST /v1/jobs, POST /v1/jobs/batch, GET|DELETE /v1/jobs/{id}, /healthz, /readyz,
      /metrics and /openapi.yaml, POST /v1/webhooks/waha (signed with WHAGO_WAHA_WEBHOOK_SECRET).
      Needs WHAGO_REDIS_URL and WHAGO_DATABASE_URL (migrated).
      SIGTERM stops accepting connections and lets requests in flight finish.
      """)

  @OptionGroup var global: GlobalOptions

  @Option(help: "Address to bind. Env: WHAGO_HOST.")
  var host: String = ProcessInfo.processInfo.environment["WHAGO_HOST"] ?? "127.0.0.1"

  @Option(help: "Port to listen on (0: any free one; the log line 'listening on' names it). Env: WHAGO_PORT.")
  var port: Int = Int(ProcessInfo.processInfo.environment["WHAGO_PORT"] ?? "") ?? 8080

  @Option(help: "PostgreSQL connections (each on its own thread).")
  var databasePool: Int = 8

  @Option(
    help:
      "How long a request may wait for a PostgreSQL connection before it is answered 503 with Retry-After (at most 32 requests per connection wait at all)."
  )
  var databaseWait: DurationArgument = DurationArgument(.seconds(5))

  @Option(
    help:
      "How long a checked API key, a tenant and its plan are remembered (revocations and plan changes take this long to reach this server)."
  )
  var authCache: DurationArgument = DurationArgument(.seconds(5))

  @Option(help: "Close a connection that sends nothing for this long (e.g. 60s).")
  var idleTimeout: DurationArgument = DurationArgument(.seconds(60))

  @Option(help: "From a request's first byte, close the connection if its headers take longer than this.")
  var headerTimeout: DurationArgument = DurationArgument(.seconds(10))

  @Option(help: "From a request's headers, close the connection if its body takes longer than this.")
  var bodyTimeout: DurationArgument = DurationArgument(.seconds(60))

  @Option(help: "Connections open at once; more wait to be accepted until one closes.")
  var maxConnections: Int = 4096

  @Option(help: "End a dashboard login after this long without a request (e.g. 30m).")
  var dashboardIdle: DurationArgument = DurationArgument(.seconds(30 * 60))

  @Option(help: "End a dashboard login this long after it began, however busy (at most 7d).")
  var dashboardLifetime: DurationArgument = DurationArgument(.seconds(12 * 3600))

  @Option(help: "Largest request body of one submission, in bytes.")
  var maxBody: Int = 1 << 20

  @OptionGroup var schedule: ScheduleClockOptions

  /// Read from the environment only, so the secret never shows in `ps` or in `--help`.
  var wahaWebhookSecret: String? { ProcessInfo.processInfo.environment["WHAGO_WAHA_WEBHOOK_SECRET"] }

  func validate() throws {
    guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535 (0: any free port)") }
    guard (1...256).contains(databasePool) else { throw ValidationError("--database-pool must be 1 to 256") }
    guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
    guard maxBody >= 1024 else { throw ValidationError("--max-body must be at least 1024 bytes") }
    guard databaseWait.duration >= .milliseconds(10) else {
      throw ValidationError("--database-wait must be at least 10ms")
    }
    guard dashboardIdle.duration >= .seconds(1), dashboardLifetime.duration >= dashboardIdle.duration,
      dashboardLifetime.duration <= DashboardSessionLifetime.longest
    else {
      throw ValidationError("--dashboard-idle must be at least 1s, and --dashboard-lifetime from it to 7d")
    }
    guard headerTimeout.duration >= .milliseconds(100), bodyTimeout.duration >= .milliseconds(100) else {
      throw ValidationError("--header-timeout and --body-timeout must be at least 100ms")
    }
    guard idleTimeout.duration >= .milliseconds(100) else {
      throw ValidationError("--idle-timeout must be at least 100ms")
    }
    do {
      _ = try AddressPolicy(environment: ProcessInfo.processInfo.environment)
    } catch {
      throw ValidationError("\(AddressPolicy.environmentVariable): \(error)")
    }
  }

  func run() async throws {
    let catalog = try global.catalog()
    let logger = global.logger(label: "whago.serve")
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    let files = OpenFileLimit.raiseToHard()
    if files < maxConnections + 256 {
      logger.warning(
        "this process may open \(files) files, fewer than --max-connections \(maxConnections) needs; raise its hard limit (ulimit -Hn, systemd LimitNOFILE) or lower --max-connections"
      )
    }

    // A request never queues without bound behind a saturated pool: it gets a 503 it can retry.
    let store = try await global.store(
      poolSize: databasePool, quiet: false, maxWaiting: databasePool * 32, waitDeadline: databaseWait.duration)
    let redis = try global.client(quiet: false)
    var limits = EnqueuerServer.Limits()
    limits.authCache = authCache.duration
    limits.idleTimeout = idleTimeout.duration
    limits.maxConnections = maxConnections
    limits.headerTimeout = headerTimeout.duration
    limits.bodyTimeout = bodyTimeout.duration
    limits.dashboardSessions = DashboardSessionLifetime(
      idle: dashboardIdle.duration, absolute: dashboardLifetime.duration)
    limits.clock = schedule.clock
    limits.maxBody = maxBody
    limits.wahaWebhookSecret = wahaWebhookSecret
    do {
      limits.outbound = try AddressPolicy(environment: ProcessInfo.processInfo.environment)
    } catch {
      throw ValidationError("\(AddressPolicy.environmentVariable): \(error)")
    }
    let environment = ProcessInfo.processInfo.environment
    do {
      let chips = try ChipConnectionSettings(environment: environment)
      limits.containers = chips.containers
      limits.secretBox = chips.secretBox
      if let host = environment[DockerEndpoint.environmentVariable], !host.isEmpty {
        limits.docker = try DockerClient(environment: environment, http: HTTPClient(), timeout: .seconds(20))
      }
    } catch {
      throw ValidationError("\(error)")
    }
    limits.gatewayWebhooks.stripeSecret = environment["WHAGO_STRIPE_WEBHOOK_SECRET"]
    limits.gatewayWebhooks.mercadoPagoSecret = environment["WHAGO_MERCADOPAGO_WEBHOOK_SECRET"]
    let http = HTTPClient()
    if let token = environment["WHAGO_MERCADOPAGO_ACCESS_TOKEN"], !token.isEmpty {
      limits.gatewayWebhooks.mercadoPagoAPI = MercadoPagoGateway(
        baseURL: environment["WHAGO_MERCADOPAGO_API_URL"] ?? "https://api.mercadopago.com", accessToken: token,
        http: http)
    }
    if let webhookID = environment["WHAGO_PAYPAL_WEBHOOK_ID"], let clientID = environment["WHAGO_PAYPAL_CLIENT_ID"],
      let clientSecret = environment["WHAGO_PAYPAL_CLIENT_SECRET"]
    {
      limits.gatewayWebhooks.payPal = PayPalWebhookVerifier(
        baseURL: environment["WHAGO_PAYPAL_API_URL"] ?? "https://api-m.paypal.com", clientID: clientID,
        clientSecret: clientSecret, webhookID: webhookID, http: http)
    }
    let app = EnqueuerServer.make(
      host: host, port: port, broker: Broker(redis: redis, durability: catalog.durability), store: store,
      catalog: catalog,
      metrics: registry, limits: limits, logger: logger
    ) { [host, database = "\(store.pool.url)"] bound in
      logger.notice("listening on http://\(host):\(bound)", metadata: ["database": "\(database)"])
    }
    let group = ServiceGroup(
      configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
    await redis.shutdown()
    await store.pool.shutdown()
    await http.shutdown()
  }
}
