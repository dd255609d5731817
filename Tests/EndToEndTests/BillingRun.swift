import Foundation
import JobQueue
import Postgres
import RedisClient
import Synchronization
import TestSupport

/// Billing for real: the payments simulator (`whago sim payments`), tenants with subscriptions
/// made by `whago subscription create`, and workers that read schedules on a compressed clock and
/// charge through the simulator. `speed` is schedule seconds per Redis second.
final class BillingRun: Sendable {
  let simBase: String
  let sim: ChildProcess
  let queue: String
  let catalog: TestCatalog
  let pool: PostgresPool
  let clock: ScheduleClock
  let workerEnvironment: [String: String]
  private let workers = Mutex<[ChildProcess]>([])

  /// Schedule time starts at `start` (derived from PostgreSQL's now, never the calendar), two
  /// seconds from now in Redis time; the sweep runs on `sweepCron` in schedule time.
  static func start(
    start: Date, speed: Double, sweepCron: String, timeoutHold: String = "3s", gatewayTimeout: String = "1s",
    stripeURL: String? = nil, simArguments: [String] = [], environment extra: [String: String] = [:],
    label: String = #function
  ) async throws -> BillingRun {
    try await TestDatabase.migrate()
    let (sim, simPort) = try await Whago.server(
      ["sim", "payments", "--timeout-hold", timeoutHold] + simArguments, label: "payments-sim")
    let simBase = "http://127.0.0.1:\(simPort)"
    try await eventually("the payments simulator to answer") {
      (try? await HTTP.send("GET", simBase + "/_sim/charges"))?.status == 200
    }
    let queue = TestRedis.queue(label)
    let catalog = try TestCatalog(
      try CampaignRun.catalogJSON(
        queue: queue,
        types: [
          "billing.sweep", "billing.renew", "billing.prorate", "billing.reconcile", "credits.purchase", "diag.noop",
        ],
        edit: { original in
          var catalog = original
          catalog["schedules"] = [
            "billing.sweep": [
              "cron": sweepCron, "timezone": "UTC", "job": "billing.sweep", "missed": "skip", "missed_after_ms": 60_000,
            ]
          ]
          // A job type that takes one token a run from a bucket sized by the tenant's plan.
          var jobs = catalog["jobs"] as? [String: Any] ?? [:]
          jobs["diag.noop"] = [
            "queue": queue, "max_attempts": 3,
            "limits": [["bucket": "plancheck:{tenant}", "capacity": 1, "per_second": "1000/{plan.min_send_gap_ms}"]],
          ]
          catalog["jobs"] = jobs
          return catalog
        }))
    let startMs = Int64(start.timeIntervalSince1970 * 1000)
    let anchor = try await TestRedis.broker().redisTime() + 2000
    let clock = ScheduleClock(anchor: anchor, start: startMs, speed: speed)
    let environment = [
      "WHAGO_SCHEDULE_CLOCK": "anchor=\(anchor),start=\(startMs),speed=\(Int(speed))",
      "WHAGO_STRIPE_API_URL": stripeURL ?? simBase, "WHAGO_STRIPE_SECRET_KEY": "sk_test_sim",
      "WHAGO_MERCADOPAGO_API_URL": simBase, "WHAGO_MERCADOPAGO_ACCESS_TOKEN": "TEST-sim",
      "WHAGO_PAYPAL_API_URL": simBase, "WHAGO_PAYPAL_CLIENT_ID": "sim", "WHAGO_PAYPAL_CLIENT_SECRET": "sim",
      "WHAGO_GATEWAY_TIMEOUT": gatewayTimeout,
    ].merging(extra) { _, mine in mine }
    return BillingRun(
      simBase: simBase, sim: sim, queue: queue, catalog: catalog, pool: try TestDatabase.pool(size: 2), clock: clock,
      workerEnvironment: environment)
  }

  /// Starts a run, runs `body` with it, and stops the run before returning or rethrowing: stopped
  /// and awaited, so in a serialized suite the next test never starts while this one's simulator
  /// and workers still hold the cores.
  static func with<T>(
    start: Date, speed: Double, sweepCron: String, timeoutHold: String = "3s", gatewayTimeout: String = "1s",
    stripeURL: String? = nil, simArguments: [String] = [], environment extra: [String: String] = [:],
    label: String = #function, _ body: (BillingRun) async throws -> T
  ) async throws -> T {
    let run = try await Self.start(
      start: start, speed: speed, sweepCron: sweepCron, timeoutHold: timeoutHold, gatewayTimeout: gatewayTimeout,
      stripeURL: stripeURL, simArguments: simArguments, environment: extra, label: label)
    do {
      let result = try await body(run)
      await run.stop()
      return result
    } catch {
      await run.stop()
      throw error
    }
  }

  private init(
    simBase: String, sim: ChildProcess, queue: String, catalog: TestCatalog, pool: PostgresPool, clock: ScheduleClock,
    workerEnvironment: [String: String]
  ) {
    self.simBase = simBase
    self.sim = sim
    self.queue = queue
    self.catalog = catalog
    self.pool = pool
    self.clock = clock
    self.workerEnvironment = workerEnvironment
  }

  @discardableResult
  func startWorker(scheduler: Bool = true) throws -> ChildProcess {
    let worker = try ChildProcess(
      executable: try Whago.binary,
      arguments: ["work", "--queues", queue, "--concurrency", "8", "--lease", "2s", "--grace", "2s"]
        + (scheduler ? [] : ["--no-scheduler"]),
      environment: [
        "WHAGO_REDIS_URL": try TestRedis.url.description, "WHAGO_JOBS_DIR": catalog.directory,
        "WHAGO_DATABASE_URL": try TestDatabase.urlText,
      ].merging(workerEnvironment) { _, mine in mine }, label: "worker")
    workers.withLock { $0.append(worker) }
    return worker
  }

  /// A tenant on `plan` billed through `gateway`, its first renewal due at `periodEnd`: charged by
  /// us on `paymentMethod`, or by the gateway itself (`gatewaySubscription`).
  func subscribe(
    plan: String, gateway: String, paymentMethod: String? = nil, gatewaySubscription: String? = nil, periodEnd: Date,
    label: String = #function
  ) async throws -> String {
    let tenant = try await TestDatabase.tenant(plan: "free", label)
    try await TestDatabase.whago(
      [
        "subscription", "create", tenant, "--plan", plan, "--gateway", gateway, "--customer", "cus_\(tenant)",
        "--period-end", ISO8601DateFormatter().string(from: periodEnd),
      ] + (paymentMethod.map { ["--payment-method", $0] } ?? [])
        + (gatewaySubscription.map { ["--gateway-subscription", $0] } ?? []))
    return tenant
  }

  /// Runs a `whago` command as this run's workers see the world: its catalog (so jobs go to its
  /// queue) and its schedule clock (so "now" is the days the renewals see). Throws on failure.
  @discardableResult
  func whago(_ arguments: [String]) async throws -> String {
    let result = try await Whago.run(
      arguments, redis: try TestRedis.url.description,
      environment: [
        "WHAGO_DATABASE_URL": try TestDatabase.urlText, "WHAGO_JOBS_DIR": catalog.directory,
        "WHAGO_SCHEDULE_CLOCK": workerEnvironment["WHAGO_SCHEDULE_CLOCK"] ?? "",
      ])
    guard result.status == 0 else {
      throw TestSetupError("whago \(arguments.joined(separator: " ")) failed: \(result.output)")
    }
    return result.output
  }

  /// Every charge the simulator made (once per idempotency key): the witness.
  func charges() async throws -> [[String: Any]] {
    let reply = try await HTTP.send("GET", simBase + "/_sim/charges")
    let json = try JSONSerialization.jsonObject(with: reply.body)
    return (json as? [[String: Any]]) ?? ((json as? [String: Any])?["charges"] as? [[String: Any]]) ?? []
  }

  func charges(customer: String) async throws -> [[String: Any]] {
    try await charges().filter { $0["customer"] as? String == customer }
  }

  /// The subscription's status and current period end, and its tenant's plan and status.
  func state(_ tenant: String) async throws -> (subscription: String, periodEnd: Date, plan: String, tenant: String) {
    let row = try await pool.query(
      """
      SELECT s.status, s.current_period_end, t.plan, t.status AS tenant_status
      FROM subscriptions s JOIN tenants t ON t.id = s.tenant_id WHERE t.name = $1
      """, [tenant])[0]
    return (
      try row.decode("status"), try row.decode("current_period_end"), try row.decode("plan"),
      try row.decode("tenant_status")
    )
  }

  func events(_ tenant: String) async throws -> [String] {
    try await pool.query(
      "SELECT kind FROM events e JOIN tenants t ON t.id = e.tenant_id WHERE t.name = $1 ORDER BY e.id", [tenant]
    ).rows.map { try $0.decode("kind") }
  }

  /// The schedule time now.
  func now() async throws -> Date {
    Date(timeIntervalSince1970: Double(clock.scheduleTime(redis: try await TestRedis.broker().redisTime())) / 1000)
  }

  func stop() async {
    for worker in workers.withLock({ $0 }) { worker.signal(SIGKILL) }
    sim.signal(SIGKILL)
    pool.close()
  }
}
