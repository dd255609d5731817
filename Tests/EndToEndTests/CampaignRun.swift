import Foundation
import JobQueue
import Postgres
import RedisClient
import Synchronization
import TestSupport

/// Everything a campaign needs, for real: a tenant on a plan of the test's own, `whago serve`, the
/// WAHA simulator with one session per chip (its webhooks signed and sent to serve), the chips
/// registered and WORKING, and worker processes on a queue of the test's own.
final class CampaignRun: Sendable {
  let tenant: String
  let key: String
  let serve: ServeProcess
  let sim: ChildProcess
  let simBase: String
  let queue: String
  let catalog: TestCatalog
  let pool: PostgresPool
  let chipIDs: [Int64]
  let sessions: [String]
  let workerEnvironment: [String: String]
  /// The Redis serve, workers and CLI are given (the test Redis, or a cluster's URL).
  let redisURL: String
  private let workers = Mutex<[ChildProcess]>([])

  /// `plan`: `key=value` limits over the enterprise plan (e.g. `min_send_gap_ms=0`).
  /// `databaseEnvironment`: how serve and the workers reach PostgreSQL, over the test database's
  /// URL (e.g. through PgBouncer); the test's own setup and reads go straight to the server.
  static func start(
    plan: [String], chips: Int = 2, simArguments: [String] = [], workerEnvironment: [String: String] = [:],
    databaseEnvironment: [String: String] = [:], sharingQueueWith other: CampaignRun? = nil,
    catalogEdit: ([String: Any]) -> [String: Any]? = { _ in nil }, redis: String? = nil, label: String = #function
  ) async throws -> CampaignRun {
    let redisURL = try redis ?? TestRedis.url.description
    try await TestDatabase.migrate()
    let planName = "p" + TestDatabase.tenantName(label).dropFirst()
    try await TestDatabase.whago(
      ["plan", "set", planName, "--from", "enterprise", "api_requests_per_hour=unlimited"] + plan)
    let tenant = try await TestDatabase.tenant(plan: planName, label)
    try await TestDatabase.whago([
      "tenant", "set-window", tenant, "--start", "00:00", "--end", "24:00", "--days", "1-7",
    ])
    let key = try await TestDatabase.apiKey(tenant: tenant)

    let queue = other?.queue ?? TestRedis.queue(label)
    let catalog = try other?.catalog ?? TestCatalog(try Self.catalogJSON(queue: queue, edit: catalogEdit))
    // The phrase bank beside the catalog, as in jobs/.
    try? FileManager.default.copyItem(
      atPath: Self.projectJobs + "/phrases.json", toPath: catalog.directory + "/phrases.json")
    let secret = "whsec-\(UUID().uuidString)"
    let serve = try await ServeProcess(
      environment: [
        "WHAGO_JOBS_DIR": catalog.directory, "WHAGO_WAHA_WEBHOOK_SECRET": secret, "WHAGO_REDIS_URL": redisURL,
      ].merging(databaseEnvironment) { _, database in database })
    let sessions = (0..<chips).map { "\(tenant.suffix(10))-\($0)" }
    let (sim, simPort) = try await Whago.server(
      [
        "sim", "waha", "--api-key", "k", "--sessions", sessions.joined(separator: ","),
        "--webhook-url", serve.base + "/v1/webhooks/waha", "--webhook-secret", secret, "--latency", "0ms",
      ] + simArguments, label: "waha-sim")
    let simBase = "http://127.0.0.1:\(simPort)"
    try await eventually("the simulator to answer") {
      (try? await HTTP.send("GET", simBase + "/api/sessions", headers: ["X-Api-Key": "k"]))?.status == 200
    }
    var chipIDs: [Int64] = []
    for (i, session) in sessions.enumerated() {
      let reply = try await HTTP.send(
        "POST", serve.base + "/v1/chips", key: key,
        json: ["name": "chip\(i)", "waha_url": simBase, "session": session, "waha_api_key": "k"])
      guard reply.status == 201, let id = try reply.json()["id"] as? Int else {
        throw TestSetupError("chip registration answered \(reply.status): \(reply.text)")
      }
      chipIDs.append(Int64(id))
      // The simulator's session.status webhook (signed, as WAHA sends it) marks the chip WORKING.
      _ = try await HTTP.send(
        "POST", simBase + "/_sim/sessions/\(session)/status", headers: ["Content-Type": "application/json"],
        body: Data(#"{"status":"WORKING"}"#.utf8))
    }
    let pool = try TestDatabase.pool(size: 2)
    let ids = "{" + chipIDs.map(String.init).joined(separator: ",") + "}"
    try await eventually("the chips to be WORKING", within: .seconds(20)) {
      try await pool.query(
        "SELECT count(*)::int AS n FROM chips WHERE id = ANY($1::bigint[]) AND status = 'WORKING'", [ids]
      )[0].decode("n", as: Int.self) == chipIDs.count
    }
    return CampaignRun(
      tenant: tenant, key: key, serve: serve, sim: sim, simBase: simBase, queue: queue, catalog: catalog, pool: pool,
      chipIDs: chipIDs, sessions: sessions,
      workerEnvironment: databaseEnvironment.merging(workerEnvironment) { _, worker in worker }, redisURL: redisURL)
  }

  /// Starts a run, runs `body` with it, and stops the run before returning or rethrowing: stopped
  /// and awaited, so in a serialized suite the next test never starts while this one's serve,
  /// simulator and workers still hold the cores.
  static func with<T>(
    plan: [String], chips: Int = 2, simArguments: [String] = [], workerEnvironment: [String: String] = [:],
    databaseEnvironment: [String: String] = [:], sharingQueueWith other: CampaignRun? = nil,
    catalogEdit: ([String: Any]) -> [String: Any]? = { _ in nil }, redis: String? = nil, label: String = #function,
    _ body: (CampaignRun) async throws -> T
  ) async throws -> T {
    let run = try await start(
      plan: plan, chips: chips, simArguments: simArguments, workerEnvironment: workerEnvironment,
      databaseEnvironment: databaseEnvironment, sharingQueueWith: other, catalogEdit: catalogEdit, redis: redis,
      label: label)
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
    tenant: String, key: String, serve: ServeProcess, sim: ChildProcess, simBase: String, queue: String,
    catalog: TestCatalog, pool: PostgresPool, chipIDs: [Int64], sessions: [String], workerEnvironment: [String: String],
    redisURL: String
  ) {
    self.redisURL = redisURL
    self.tenant = tenant
    self.key = key
    self.serve = serve
    self.sim = sim
    self.simBase = simBase
    self.queue = queue
    self.catalog = catalog
    self.pool = pool
    self.chipIDs = chipIDs
    self.sessions = sessions
    self.workerEnvironment = workerEnvironment
  }

  /// The project's campaign job types, as jobs/catalog.json declares them (limits included), on
  /// this test's queue and with short backoffs.
  static var projectJobs: String { ProcessInfo.processInfo.environment["WHAGO_JOBS_DIR"] ?? "jobs" }

  static func catalogJSON(
    queue: String,
    types: [String] = [
      "campaign.start", "campaign.send", "chips.health", "chip.check", "maturation.tick", "maturation.exchange",
    ],
    edit: ([String: Any]) -> [String: Any]? = { _ in nil }
  ) throws -> String {
    let data = try Data(contentsOf: URL(fileURLWithPath: projectJobs + "/catalog.json"))
    guard let project = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let jobs = project["jobs"] as? [String: Any]
    else { throw TestSetupError("jobs/catalog.json does not read") }
    var mine: [String: Any] = [:]
    for type in types {
      guard var job = jobs[type] as? [String: Any] else { throw TestSetupError("jobs/catalog.json lacks \(type)") }
      job["queue"] = queue
      job["backoff"] = ["base_ms": 200, "cap_ms": 2000]
      mine[type] = job
    }
    var catalog: [String: Any] = ["queues": [queue: ["weight": 1]], "jobs": mine]
    catalog = edit(catalog) ?? catalog
    return String(decoding: try JSONSerialization.data(withJSONObject: catalog), as: UTF8.self)
  }

  @discardableResult
  func startWorker(concurrency: Int = 16, environment: [String: String] = [:]) throws -> ChildProcess {
    let worker = try ChildProcess(
      executable: try Whago.binary,
      arguments: ["work", "--queues", queue, "--concurrency", String(concurrency), "--lease", "2s", "--grace", "5s"],
      environment: [
        "WHAGO_REDIS_URL": redisURL, "WHAGO_JOBS_DIR": catalog.directory,
        "WHAGO_DATABASE_URL": try TestDatabase.urlText, "WHAGO_CHIP_RECHECK": "500ms",
      ].merging(workerEnvironment) { _, mine in mine }.merging(environment) { _, mine in mine }, label: "worker")
    workers.withLock { $0.append(worker) }
    return worker
  }

  /// `count` Brazilian mobile numbers, distinct per test run, none that the simulator says is not
  /// on WhatsApp (those end in 0000).
  static func phones(_ count: Int) -> [String] {
    let base = Int.random(in: 1_000...8_999) * 10_000
    return (1...count).map { "+55119\(String(format: "%08d", (base + $0 * 7) % 100_000_000))" }
  }

  func createCampaign(
    phones: [String], template: String = "Oi {{nome}}, tudo bem?", pace: (Int, Int) = (0, 0), startAt: Date? = nil
  ) async throws -> Int {
    var body: [String: Any] = [
      "name": "test", "template": template, "chip_ids": chipIDs.map(Int.init),
      "pace": ["min_interval_ms": pace.0, "max_interval_ms": pace.1],
      "recipients": phones.enumerated().map { ["phone": $1, "vars": ["nome": "Cliente \($0)"]] },
    ]
    if let startAt { body["start_at"] = ISO8601DateFormatter().string(from: startAt) }
    let reply = try await HTTP.send("POST", serve.base + "/v1/campaigns", key: key, json: body)
    guard reply.status == 201, let id = try reply.json()["id"] as? Int else {
      throw TestSetupError("campaign creation answered \(reply.status): \(reply.text)")
    }
    return id
  }

  func command(_ id: Int, _ command: String) async throws -> HTTP.Reply {
    try await HTTP.send("POST", serve.base + "/v1/campaigns/\(id)/\(command)", key: key)
  }

  func campaign(_ id: Int) async throws -> (status: String, counts: [String: Int]) {
    let json = try await HTTP.send("GET", serve.base + "/v1/campaigns/\(id)", key: key).json()
    return (json["status"] as? String ?? "", json["counts"] as? [String: Int] ?? [:])
  }

  func waitFor(_ id: Int, status: String, within limit: Duration = .seconds(90)) async throws {
    try await eventually("campaign \(id) to be \(status)", within: limit, every: .milliseconds(100)) {
      try await self.campaign(id).status == status
    }
  }

  /// Every message the simulator accepted: the witness of what was really sent.
  func sent() async throws -> [(session: String, chatId: String, text: String, time: Int)] {
    let reply = try await HTTP.send("GET", simBase + "/_sim/messages")
    let json = try JSONSerialization.jsonObject(with: reply.body)
    let rows = (json as? [[String: Any]]) ?? ((json as? [String: Any])?["messages"] as? [[String: Any]]) ?? []
    return rows.map {
      (
        $0["session"] as? String ?? "", $0["chatId"] as? String ?? "", $0["text"] as? String ?? "",
        $0["time"] as? Int ?? 0
      )
    }
  }

  /// How many times each recipient was sent to, from the simulator's log.
  func sendsPerRecipient() async throws -> [String: Int] {
    var counts: [String: Int] = [:]
    for message in try await sent() {
      counts["+" + message.chatId.prefix(while: { $0 != "@" }), default: 0] += 1
    }
    return counts
  }

  /// Runs a `whago` command with this run's catalog, Redis and database (as an operator would).
  func whago(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await Whago.run(
      arguments, redis: redisURL,
      environment: ["WHAGO_DATABASE_URL": try TestDatabase.urlText, "WHAGO_JOBS_DIR": catalog.directory])
  }

  func simConfig(_ json: String) async throws {
    let reply = try await HTTP.send(
      "POST", simBase + "/_sim/config", headers: ["Content-Type": "application/json"], body: Data(json.utf8))
    guard reply.status == 200 else { throw TestSetupError("/_sim/config answered \(reply.status): \(reply.text)") }
  }

  func stop() async {
    for worker in workers.withLock({ $0 }) { worker.signal(SIGKILL) }
    sim.signal(SIGKILL)
    try? await serve.stop()
    pool.close()
  }
}
