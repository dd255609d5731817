import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobCatalog
import JobQueue
import Postgres
import Store
import TestSupport
import Testing

@testable import Enqueuer

extension EnqueuerSuite {
  /// The dashboard's actions in process, each checked in Redis and in the audit trail: the
  /// scheduled and retries pages with run-now and cancel, bulk retry and delete of a filtered dead
  /// set (counted, confirmed, run with progress, safe to repeat), hand-back and cancel of a running
  /// job, and pausing a schedule.
  @Suite struct DashboardActionTests {
    typealias Browser = DashboardSessionTests.Browser

    /// A logged-in admin session with its CSRF token, and the key's label in the trail.
    struct Admin {
      let browser: Browser
      let session: String
      let csrf: String

      func post(_ uri: String, _ fields: [(String, String)]) async throws -> (HTTPResponse.Status, String?) {
        let answer = try await browser.post(uri, fields + [("csrf", csrf)], cookie: session)
        return (answer.status, answer.location)
      }

      func get(_ uri: String) async throws -> (status: HTTPResponse.Status, body: String) {
        try await browser.get(uri, cookie: session)
      }
    }

    func withAdmin(label: String, broker: Broker, _ body: @Sendable @escaping (Admin, Store) async throws -> Void)
      async throws
    {
      try await TestDatabase.migrate()
      let pool = try TestDatabase.pool(size: 1)
      defer { pool.close() }
      let store = Store(pool: pool)
      let key = try await store.createAPIKey(tenant: nil, admin: true, label: label).key
      try await withInProcessEnqueuer(broker: broker) { client in
        let browser = Browser(client: client)
        let session = try await browser.login(key)
        try await body(Admin(browser: browser, session: session, csrf: try await browser.csrf(session)), store)
      }
    }

    /// The row of `id` on a page, up to its line's end.
    func row(_ page: String, _ attribute: String, _ id: String) throws -> String {
      let start = try #require(page.range(of: "<tr \(attribute)=\"\(id)\""), "no row for \(id)")
      return String(page[start.lowerBound...].prefix { $0 != "\n" })
    }

    @Test func scheduledAndRetriesPagesListFilterRunNowAndCancel() async throws {
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue("waitpage")
      let hour = JobSpec.When.after(.seconds(3600))
      let soon = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, when: hour, tenant: "acme")).id
      let other = try await broker.enqueue(JobSpec(type: "diag.echo", queue: queue, when: hour, tenant: "zeta")).id
      let failing = try await broker.enqueue(JobSpec(type: "diag.fail", queue: queue)).id
      let leased = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(30), token: "t:1").jobs
      try #require(leased.map(\.id) == [failing])
      _ = try await broker.fail(leased[0], error: "WAHA <b>503</b>", retryAfter: .seconds(3600))

      try await withAdmin(label: "night shift", broker: broker) { admin, store in
        let scheduled = try await admin.get("/dashboard/scheduled?queue=\(queue)")
        #expect(scheduled.status == .ok)
        #expect(try row(scheduled.body, "data-waiting-id", soon).contains(">acme<"))
        #expect(try row(scheduled.body, "data-waiting-id", other).contains(">diag.echo<"))
        #expect(!scheduled.body.contains(failing))
        let filtered = try await admin.get("/dashboard/scheduled?queue=\(queue)&tenant=zeta")
        #expect(filtered.body.contains(other) && !filtered.body.contains(soon))
        let retries = try await admin.get("/dashboard/retries?queue=\(queue)&error=503")
        // The error is shown escaped.
        #expect(try row(retries.body, "data-waiting-id", failing).contains("WAHA &lt;b&gt;503&lt;/b&gt;"))
        #expect(try await admin.get("/dashboard/retries?queue=\(queue)&error=nomatch").body.contains("waiting-empty"))

        // Without the session's token, nothing happens.
        let forged = try await admin.browser.post(
          "/dashboard/waiting/run", [("set", "scheduled"), ("queue", queue), ("id", soon)], cookie: admin.session)
        #expect(forged.status == .forbidden)
        #expect(try await broker.job(id: soon).state == .scheduled)

        let back = "/dashboard/scheduled?queue=\(queue)"
        let ran = try await admin.post(
          "/dashboard/waiting/run", [("set", "scheduled"), ("queue", queue), ("id", soon), ("back", back)])
        #expect(ran.0 == .seeOther && ran.1 == back + "&ran=1")
        #expect(try await broker.job(id: soon).state == .ready)
        let again = try await admin.post(
          "/dashboard/waiting/run", [("set", "scheduled"), ("queue", queue), ("id", soon), ("back", back)])
        #expect(again.1 == back + "&ran=0")
        #expect(try await admin.get(back + "&ran=0").body.contains("no longer waiting"))

        let cancelled = try await admin.post(
          "/dashboard/waiting/cancel", [("set", "retries"), ("queue", queue), ("id", failing)])
        #expect(cancelled.1 == "/dashboard/retries?dropped=1")
        #expect(try await broker.job(id: failing).state == .cancelled)

        // The job page's cancel is on the trail too.
        #expect(try await admin.post("/dashboard/jobs/cancel", [("id", other)]).0 == .seeOther)
        #expect(try await broker.job(id: other).state == .cancelled)

        // The trail is shared with suites running meanwhile: this admin's rows.
        let trail = try await store.dashboardActions(limit: 100).filter { $0.keyLabel == "night shift" }.prefix(5)
        let names = trail.map(\.action)
        #expect(names.contains("scheduled.run-now") && names.contains("retries.cancel") && names.contains("job.cancel"))
        #expect(trail.allSatisfy { $0.keyLabel == "night shift" && $0.state == .done })
        #expect(trail.first { $0.action == "retries.cancel" }?.target == "job \(failing) on queue \(queue)")
      }
    }

    @Test func bulkRetryOfAFilteredDeadSetIsCountedConfirmedRunAndSafeToRepeat() async throws {
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue("bulkdead")
      // 1,200 dead jobs whose error names the gateway (more than two chunks), and 7 others.
      func bury(_ count: Int, error: String) async throws -> [String] {
        let ids = try await broker.enqueue(
          (0..<count).map { _ in JobSpec(type: "diag.fail", queue: queue, maxAttempts: 1) }
        ).map(\.id)
        var buried = 0
        while buried < count {
          let jobs = try await broker.fetch(queue: queue, limit: 200, lease: .seconds(60), token: "bury:1").jobs
          for job in jobs { _ = try await broker.fail(job, error: error, retryAfter: nil) }
          buried += jobs.count
        }
        return ids
      }
      let gateway = try await bury(1_200, error: "gateway timed out")
      let others = try await bury(7, error: "bad payload")

      try await withAdmin(label: "bulk tester", broker: broker) { admin, store in
        let list = try await admin.get("/dashboard/dead?queue=\(queue)&error=gateway")
        #expect(list.body.contains("id=\"bulk-retry\""))
        let confirm = try await admin.get("/dashboard/bulk?set=dead&verb=run&queue=\(queue)&error=gateway")
        #expect(confirm.status == .ok)
        #expect(confirm.body.contains("<strong id=\"bulk-count\">1200</strong>"))
        #expect(confirm.body.contains("last error contains &quot;gateway&quot;"))
        // Counting asked nothing of Redis's state.
        #expect(try await broker.stats(queues: [queue])[0].dead == 1_207)

        let fields = [("set", "dead"), ("verb", "run"), ("queue", queue), ("error", "gateway"), ("spread_ms", "0")]
        let started = try await admin.post("/dashboard/bulk", fields)
        #expect(started.0 == .seeOther)
        let path = try #require(started.1)
        let id = try #require(Int64(path.replacingOccurrences(of: "/dashboard/audit/", with: "")))
        try await eventually("the bulk retry to finish", within: .seconds(60)) {
          try await store.dashboardAction(id: id)?.state != .running
        }
        let entry = try #require(try await store.dashboardAction(id: id))
        #expect(entry.state == .done && entry.matched == 1_200 && entry.done == 1_200)
        #expect(entry.keyLabel == "bulk tester" && entry.action == "dead.retry")
        let page = try await admin.get(path)
        #expect(page.body.contains("<span id=\"audit-done\">1200</span> of <span id=\"audit-matched\">1200</span>"))
        #expect(page.body.contains("bulk tester"))

        let stats = try await broker.stats(queues: [queue])[0]
        #expect(stats.dead == 7 && stats.ready == 1_200)
        for id in gateway.prefix(20) { #expect(try await broker.job(id: id).state == .ready) }
        for id in others { #expect(try await broker.job(id: id).state == .dead) }

        // Again: nothing matches, nothing changes, and the trail says so.
        let repeated = try await admin.post("/dashboard/bulk", fields)
        let second = try #require(
          repeated.1.flatMap { Int64($0.replacingOccurrences(of: "/dashboard/audit/", with: "")) })
        try await eventually("the repeat to finish", within: .seconds(30)) {
          try await store.dashboardAction(id: second)?.state == .done
        }
        #expect(try await store.dashboardAction(id: second)?.matched == 0)
        #expect(try await broker.stats(queues: [queue])[0].ready == 1_200)

        // Delete the rest through the same flow; the trail lists both kinds.
        #expect(
          try await admin.get("/dashboard/bulk?set=dead&verb=remove&queue=\(queue)").body.contains(
            "<strong id=\"bulk-count\">7</strong>"))
        let deleted = try await admin.post("/dashboard/bulk", [("set", "dead"), ("verb", "remove"), ("queue", queue)])
        let third = try #require(
          deleted.1.flatMap { Int64($0.replacingOccurrences(of: "/dashboard/audit/", with: "")) })
        try await eventually("the bulk delete to finish", within: .seconds(30)) {
          try await store.dashboardAction(id: third)?.state == .done
        }
        #expect(try await broker.stats(queues: [queue])[0].dead == 0)
        let trail = try await admin.get("/dashboard/audit")
        #expect(try row(trail.body, "data-audit-id", "\(third)").contains("dead.delete"))
        #expect(try row(trail.body, "data-audit-id", "\(id)").contains("1200 of 1200"))
      }
    }

    @Test func bulkRunNowReachesEveryMatchingScheduledJob() async throws {
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue("bulkrun")
      let hour = JobSpec.When.after(.seconds(3600))
      _ = try await broker.enqueue(
        (0..<150).map { _ in JobSpec(type: "diag.noop", queue: queue, when: hour, tenant: "acme") })
      let kept = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, when: hour, tenant: "zeta")).id
      try await withAdmin(label: "bulk runner", broker: broker) { admin, store in
        // The list shows 100; the action reaches all 150.
        #expect(
          try await admin.get("/dashboard/bulk?set=scheduled&verb=run&queue=\(queue)&tenant=acme").body.contains(
            "<strong id=\"bulk-count\">150</strong>"))
        let started = try await admin.post(
          "/dashboard/bulk", [("set", "scheduled"), ("verb", "run"), ("queue", queue), ("tenant", "acme")])
        let id = try #require(started.1.flatMap { Int64($0.replacingOccurrences(of: "/dashboard/audit/", with: "")) })
        try await eventually("the bulk run-now to finish", within: .seconds(30)) {
          try await store.dashboardAction(id: id)?.state == .done
        }
        let stats = try await broker.stats(queues: [queue])[0]
        #expect(stats.ready == 150 && stats.scheduled == 1)
        #expect(try await broker.job(id: kept).state == .scheduled)
      }
    }

    @Test func aRunningJobIsHandedBackOrCancelledByItsRunsToken() async throws {
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue("busyact")
      let first = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue)).id
      let second = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue)).id
      let leased = try await broker.fetch(queue: queue, limit: 2, lease: .seconds(600), token: "w-busy:3").jobs
      try #require(Set(leased.map(\.id)) == [first, second])

      try await withAdmin(label: "on call", broker: broker) { admin, _ in
        let page = try await admin.get("/dashboard/busy")
        let firstRow = try row(page.body, "data-busy-id", first)
        #expect(firstRow.contains("name=\"token\" value=\"w-busy:3\"") && firstRow.contains("class=\"hand-back\""))

        let handed = try await admin.post(
          "/dashboard/busy/handback", [("queue", queue), ("id", first), ("token", "w-busy:3")])
        #expect(handed.1 == "/dashboard/busy?handedBack=1")
        #expect(try await broker.job(id: first).state == .ready)
        // A stale form (that run is over) changes nothing.
        let stale = try await admin.post(
          "/dashboard/busy/handback", [("queue", queue), ("id", first), ("token", "w-busy:3")])
        #expect(stale.1 == "/dashboard/busy?handedBack=0")

        let cancelled = try await admin.post(
          "/dashboard/busy/cancel", [("queue", queue), ("id", second), ("token", "w-busy:3")])
        #expect(cancelled.1 == "/dashboard/busy?stopped=1")
        let info = try await broker.job(id: second)
        #expect(info.state == .cancelled)
        #expect(info.history.last?.error.contains("on call") == true)
        // The worker's next extension hears that both runs are over, and its acks change nothing.
        let lost = try await broker.extendLeases(
          queue: queue, [(first, "w-busy:3"), (second, "w-busy:3")], by: .seconds(60))
        #expect(Set(lost) == [first, second])
        #expect(try await broker.ack(queue: queue, [(second, "w-busy:3")]) == [.leaseLost])
        #expect(try await admin.get("/dashboard/busy?stopped=1").body.contains("its run stops"))
      }
    }

    @Test func aScheduleIsPausedAndResumedFromItsPage() async throws {
      let broker = try TestRedis.broker()
      let catalog = try JobCatalog.load(directory: ProcessInfo.processInfo.environment["WHAGO_JOBS_DIR"] ?? "jobs")
      let schedule = try #require(catalog.schedules.first)
      try await withAdmin(label: "scheduler admin", broker: broker) { admin, store in
        let paused = try await admin.post("/dashboard/schedules/pause", [("name", schedule.name)])
        // Resume whatever happens: other suites share this schedule's Redis.
        var resumed = false
        defer { if !resumed { Task { try? await broker.resumeCron(name: schedule.name, queue: schedule.queue) } } }
        #expect(paused.1 == "/dashboard/schedules?paused=1")
        #expect(
          try await broker.cronState(name: schedule.name, queue: schedule.queue).pausedBy == "key scheduler admin")
        let page = try await admin.get("/dashboard/schedules")
        #expect(try row(page.body, "data-schedule", schedule.name).contains("class=\"resume\""))
        _ = try await admin.post("/dashboard/schedules/resume", [("name", schedule.name)])
        resumed = true
        #expect(try await broker.cronState(name: schedule.name, queue: schedule.queue).pausedBy == nil)
        #expect(
          try await admin.post("/dashboard/schedules/pause", [("name", "no-such")]).1 == "/dashboard/schedules?paused=0"
        )
        let trail = try await store.dashboardActions(limit: 100).filter { $0.keyLabel == "scheduler admin" }.map(
          \.action)
        #expect(trail.contains("schedule.pause") && trail.contains("schedule.resume"))
      }
    }
  }
}

extension EnqueuerSuite.DashboardActionTests {
  @Test func limitsAndTenantPagesShowWhatRedisAndPostgreSQLHold() async throws {
    let broker = try TestRedis.broker()
    let tenant = try await TestDatabase.tenant(plan: "business")
    let queue = TestRedis.queue("tenantpage")
    // Two buckets of the tenant below capacity: 3 of 10 sends taken, 1 API request.
    let sends = TokenBucket(name: "sends:\(tenant)", capacity: 10, refillPerSecond: 0.001)
    for _ in 0..<3 { _ = try await broker.take([sends]) }
    _ = try await broker.take([TokenBucket(name: "api:\(tenant)", capacity: 1000, refillPerSecond: 0.01)])
    // Its jobs in every state: 2 ready, 1 waiting, 1 running, 1 dead; and another tenant's.
    _ = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, tenant: tenant))
    _ = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(600), token: "tp:1")
    let dead = try await broker.enqueue(JobSpec(type: "diag.fail", queue: queue, maxAttempts: 1, tenant: tenant)).id
    let leased = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(60), token: "tp:2").jobs
    try #require(leased.map(\.id) == [dead])
    _ = try await broker.fail(leased[0], error: "boom", retryAfter: nil)
    _ = try await broker.enqueue(
      [
        JobSpec(type: "diag.noop", queue: queue, tenant: tenant),
        JobSpec(type: "diag.noop", queue: queue, tenant: tenant),
      ])
    _ = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, when: .after(.seconds(3600)), tenant: tenant))
    _ = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, tenant: "someone-else"))

    try await withAdmin(label: "support", broker: broker) { admin, _ in
      let limits = try await admin.get("/dashboard/limits?name=\(tenant)")
      #expect(limits.status == .ok)
      let sendsRow = try row(limits.body, "data-bucket", "sends:\(tenant)")
      #expect(sendsRow.contains("<td class=\"n level\">7") && sendsRow.contains(">business<"), "\(sendsRow)")
      #expect(sendsRow.contains("sends per minute") && sendsRow.contains("href=\"/dashboard/tenants/\(tenant)\""))
      #expect(try row(limits.body, "data-bucket", "api:\(tenant)").contains("<td class=\"n level\">999"))
      #expect(!limits.body.contains("sends:someone-else"))

      let page = try await admin.get("/dashboard/tenants/\(tenant)")
      #expect(page.status == .ok)
      let jobs = try row(page.body, "data-queue", queue)
      #expect(jobs.contains("<td class=\"n ready\">2</td>"), "\(jobs)")
      #expect(jobs.contains(">1</a></td><td class=\"n running\">1</td>"), "\(jobs)")
      #expect(
        jobs.contains("<td class=\"n dead\"><a href=\"/dashboard/dead?queue=\(queue)&amp;tenant=\(tenant)\">1</a>"))
      #expect(page.body.contains("<dt>Plan</dt><dd>business</dd>"))
      #expect(page.body.contains("<tr data-bucket=\"sends:\(tenant)\">"))
      #expect(try await admin.get("/dashboard/tenants").body.contains("data-tenant=\"\(tenant)\""))
      #expect(try await admin.get("/dashboard/tenants/no-such-tenant").status == .notFound)
    }
  }
}

extension EnqueuerSuite.DashboardActionTests {
  @Test func chartsDrawAQueuesRunsPerTypeOverTheHourAndTheDay() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue("charts")
    let now = try await broker.redisTime()
    let tally = RunTally()
    for i in 0..<30 {
      tally.record(queue: queue, type: "diag.echo", failed: i % 10 == 0, runtimeMs: 20, waitMs: 5, endedAt: now)
    }
    tally.record(queue: queue, type: "diag.sleep", failed: false, runtimeMs: 4_000, waitMs: 900, endedAt: now - 300_000)
    try await broker.addRunStats(tally.drain())
    _ = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue))  // registers the queue

    try await withAdmin(label: "charts", broker: broker) { admin, _ in
      let page = try await admin.get("/dashboard/charts?queue=\(queue)")
      #expect(page.status == .ok)
      // This minute's bar holds 27 processed and 3 failed: the throughput peak is 30.
      #expect(page.body.contains("<svg class=\"chart\" id=\"chart-throughput\" data-peak=\"30\""))
      #expect(page.body.contains("<svg class=\"chart\" id=\"chart-failures\" data-peak=\"3\""))
      let echo = try row(page.body, "data-type", "diag.echo")
      #expect(echo.contains("<td class=\"n processed\">27</td><td class=\"n failed\">3</td>"), "\(echo)")
      let sleep = try row(page.body, "data-type", "diag.sleep")
      #expect(sleep.contains("<td class=\"n wait\">\(RunHistogram.upperBound(RunHistogram.bucket(900))) ms</td>"))
      // One type alone: its runtime peak is the slow run's bucket.
      let one = try await admin.get("/dashboard/charts?queue=\(queue)&type=diag.sleep&range=24h")
      let edge = RunHistogram.upperBound(RunHistogram.bucket(4_000))
      #expect(one.body.contains("id=\"chart-runtime\" data-peak=\"\(edge)\""))
      #expect(one.body.contains("<option value=\"24h\" selected>"))
      // The page's only script is the layout's.
      #expect(one.body.components(separatedBy: "<script>").count == 2)
    }
  }
}
