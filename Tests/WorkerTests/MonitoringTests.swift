import Foundation
import JobQueue
import Postgres
import RedisClient
import Store
import TestSupport
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The monitoring shipped in deploy/: the alert rules pass promtool (their syntax and their unit
/// tests), and every metric name the rules and the Grafana dashboard use is one a live serve or
/// worker really exports, so the two cannot drift apart. serve's scrape-time gauges are checked
/// against what Redis and PostgreSQL hold.
@Suite struct MonitoringTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

  @Test func theAlertRulesPassPromtool() async throws {
    for arguments in [
      ["check", "rules", "deploy/prometheus/alerts.yaml"], ["test", "rules", "deploy/prometheus/alerts_test.yaml"],
    ] {
      let promtool = try ChildProcess(
        executable: "/usr/bin/promtool", arguments: arguments, label: "promtool", workingDirectory: Self.root)
      let status = try await promtool.waitForExit(within: .seconds(60))
      #expect(status == 0, "promtool \(arguments.joined(separator: " ")): \(promtool.output)")
    }
  }

  @Test func everyMetricTheRulesAndDashboardUseIsExportedAndTheGaugesTellTheTruth() async throws {
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: "enterprise", "monitoring")
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let access = try #require(try await store.tenantAccess(named: tenant))
    let chip = try await store.createChip(
      tenant: access, name: "um", wahaURL: "http://waha.example.invalid", session: "mon-\(tenant)", wahaAPIKey: nil)
    try await store.recordChipStatus(id: chip.id, status: .failed)

    let broker = try TestRedis.broker()
    let (served, idle) = (TestRedis.queue(), TestRedis.queue())
    let worker = try Whago.worker(redis: try TestRedis.url.description, queues: served, extra: ["--metrics-port", "0"])
    defer { worker.signal(SIGKILL) }
    let workerPort = try await worker.listeningPort(after: "metrics listening on http://")
    // One job run makes the worker's job families appear; the idle queue gets work nobody serves.
    _ = try await broker.enqueue([JobSpec(type: "diag.noop", queue: served)])
    _ = try await broker.enqueue((0..<3).map { _ in JobSpec(type: "diag.noop", queue: idle) })
    try await eventually("the job to run") { try await broker.stats(queues: [served])[0].processed == 1 }

    try await ServeProcess.with { serve in
      // A request that fails, so serve's error counter exists too.
      _ = try await HTTP.send("GET", serve.base + "/v1/no-such-route")
      let serveMetrics = serve.base + "/metrics"
      let workerMetrics = "http://127.0.0.1:\(workerPort)/metrics"
      var text = ""
      try await eventually("the worker to beat and serve to see it") {
        text = try await Self.scrape(serveMetrics)
        return Self.value(text, "whago_workers_live", ["queue": served]) == 1
      }
      #expect(Self.value(text, "whago_workers_live", ["queue": idle]) == 0, "an idle queue is an explicit 0")
      #expect(Self.value(text, "whago_queue_jobs", ["queue": idle, "state": "ready"]) == 3)
      #expect((Self.value(text, "whago_queue_oldest_ready_age_seconds", ["queue": idle]) ?? -1) >= 0)
      #expect(Self.value(text, "whago_queue_paused", ["queue": idle]) == 0)
      #expect(Self.value(text, "whago_dependency_up", ["dependency": "redis"]) == 1)
      #expect(Self.value(text, "whago_dependency_up", ["dependency": "postgres"]) == 1)
      #expect(Self.value(text, "whago_chips", ["tenant": tenant, "status": "FAILED"]) == 1)

      let check = try ChildProcess(
        executable: "/usr/bin/python3",
        arguments: ["scripts/lib/check_monitoring.py", serveMetrics, workerMetrics], label: "check-monitoring",
        workingDirectory: Self.root)
      #expect(try await check.waitForExit(within: .seconds(60)) == 0, "\(check.output)")

      // The chip recovers: its FAILED series goes away instead of staying at 1 (and firing on).
      try await store.recordChipStatus(id: chip.id, status: .working)
      text = try await Self.scrape(serveMetrics)
      #expect(Self.value(text, "whago_chips", ["tenant": tenant, "status": "FAILED"]) == nil)
      #expect(Self.value(text, "whago_chips", ["tenant": tenant, "status": "WORKING"]) == 1)
    }
  }

  static func scrape(_ url: String) async throws -> String {
    let reply = try await HTTP.send("GET", url)
    guard reply.status == 200 else { throw TestSetupError("GET \(url) answered \(reply.status)") }
    return reply.text
  }

  /// The sample of `name` whose labels include all of `labels`, or nil when there is none.
  static func value(_ text: String, _ name: String, _ labels: [String: String]) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + "{") {
      let wanted = labels.allSatisfy { line.contains("\($0.key)=\"\($0.value)\"") }
      if wanted, let number = line.split(separator: " ").last.flatMap({ Double($0) }) { return number }
    }
    return nil
  }
}
