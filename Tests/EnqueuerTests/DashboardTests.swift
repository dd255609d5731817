import Foundation
import JobQueue
import Postgres
import TestSupport
import Testing

extension EnqueuerSuite {
  /// The dashboard in a real headless Chromium: logged in through its form, its numbers checked
  /// against Redis, a dead job retried and another deleted by clicking the page's buttons.
  @Suite struct DashboardTests {
    /// Jobs of one fresh queue in every state the overview counts.
    struct Seeded {
      var queue: String
      var active: String
      /// Dead through the real fail path: one with a gateway error, one with a WAHA timeout.
      var gatewayDead: String
      var wahaDead: String
      var marker: String
    }

    func seed(_ broker: Broker, tenant: String) async throws -> Seeded {
      let queue = TestRedis.queue("dashboard")
      let marker = "dash-\(UInt32.random(in: 0...UInt32.max))"
      // Each fetch below finds exactly the jobs enqueued just before it, so each lands where meant.
      let doomed = try await broker.enqueue([
        JobSpec(
          type: "diag.fail", payload: #"{"times":9,"marker":"\#(marker)"}"#, queue: queue, maxAttempts: 1,
          tenant: tenant),
        JobSpec(type: "diag.noop", queue: queue, maxAttempts: 1),
      ]).map(\.id)
      let leased = try await broker.fetch(queue: queue, limit: 2, lease: .seconds(60), token: "dash:1").jobs
      try #require(Set(leased.map(\.id)) == Set(doomed))
      for job in leased {
        let error = job.id == doomed[0] ? "gateway said no" : "timeout talking to WAHA <script>alert(1)</script>"
        #expect(try await broker.fail(job, error: error, retryAfter: nil) == .dead)
      }
      _ = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue))
      let done = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(60), token: "dash:2").jobs
      try #require(done.count == 1)
      #expect(try await broker.ack(queue: queue, [(id: done[0].id, token: done[0].token)]) == [.acked])
      let active = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue)).id
      let running = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(600), token: "dash:3").jobs
      try #require(running.map(\.id) == [active])
      _ = try await broker.enqueue((0..<3).map { _ in JobSpec(type: "diag.noop", queue: queue) })
      _ = try await broker.enqueue(
        (0..<2).map { _ in JobSpec(type: "diag.noop", queue: queue, when: .after(.seconds(3600))) })
      return Seeded(queue: queue, active: active, gatewayDead: doomed[0], wahaDead: doomed[1], marker: marker)
    }

    /// A running campaign half done: 4 sent and 1 failed of 10 recipients.
    func seedCampaign(_ pool: PostgresPool, tenant: String) async throws -> Int64 {
      let rows = try await pool.query(
        """
        WITH c AS (
          INSERT INTO campaigns (tenant_id, name, template, status, started_at)
          SELECT id, 'Black Friday <b>', 'Oi {{name}}', 'running', now() FROM tenants WHERE name = $1 RETURNING id)
        INSERT INTO campaign_messages (campaign_id, phone, state)
        SELECT c.id, '+55119' || lpad(g::text, 8, '0'),
               CASE WHEN g <= 4 THEN 'sent' WHEN g = 5 THEN 'failed' ELSE 'pending' END
        FROM c, generate_series(1, 10) g
        RETURNING campaign_id
        """, [tenant])
      return try rows[0].decode("campaign_id")
    }

    @Test func theDashboardShowsWhatRedisHoldsAndRetriesADeadJobFromThePage() async throws {
      try await EnqueuerFixture.with { f in
        let created = try await TestDatabase.whago(["apikey", "create", "--admin", "--quiet"])
        let adminKey = try #require(created.split(separator: "\n").last.map(String.init))
        let broker = try TestRedis.broker()
        let s = try await seed(broker, tenant: f.tenant)
        let q = s.queue
        let worker = WorkerStatus(
          name: "dash-\(q)", host: "test-host", pid: Int(ProcessInfo.processInfo.processIdentifier), queues: [q],
          concurrency: 8, running: 1, jobs: [s.active], startedAt: 0)
        try await broker.heartbeat(worker, lifetime: .seconds(120))
        let pool = try TestDatabase.pool()
        let campaign = try await seedCampaign(pool, tenant: f.tenant)
        // Nothing seeded outlives the test: a running campaign or a live worker would show in every later test's view.
        func cleanUp() async {
          _ = try? await pool.query("DELETE FROM campaigns WHERE id = $1", [campaign])
          pool.close()
          _ = try? await broker.heartbeat(worker, leaving: true)
        }
        do {
          try await check(f, adminKey: adminKey, broker: broker, seeded: s, worker: worker, campaign: campaign)
        } catch {
          await cleanUp()
          throw error
        }
        await cleanUp()
      }
    }

    func check(
      _ f: EnqueuerFixture, adminKey: String, broker: Broker, seeded s: Seeded, worker: WorkerStatus, campaign: Int64
    ) async throws {
      let q = s.queue
      // Scripts: no key or a tenant key is a 401 problem; an admin key reads the same numbers as Redis.
      let anonymous = try await HTTP.send("GET", f.url("/dashboard/api/overview"))
      #expect(anonymous.status == 401 && anonymous.isProblem)
      #expect(try await HTTP.send("GET", f.url("/dashboard/api/overview"), key: f.tenantKey).status == 401)
      let api = try await HTTP.send("GET", f.url("/dashboard/api/overview"), key: adminKey)
      #expect(api.status == 200)
      let overview = try api.json()
      let stats = try #require(try await broker.stats(queues: [q]).first)
      let queues = overview["queues"] as? [[String: Any]] ?? []
      let listed = try #require(queues.first { $0["queue"] as? String == q })
      #expect(listed["ready"] as? Int == 3 && stats.ready == 3)
      for (name, value) in [
        ("ready", stats.ready), ("scheduled", stats.scheduled), ("active", stats.active), ("dead", stats.dead),
        ("processed", stats.processed), ("failed", stats.failed),
      ] {
        #expect(listed[name] as? Int == value, "\(name)")
      }
      #expect((listed["throughput"] as? [Any])?.count == 60)
      let workers = overview["workers"] as? [[String: Any]] ?? []
      #expect(workers.contains { $0["name"] as? String == worker.name && $0["jobs"] as? [String] == [s.active] })
      let campaigns = overview["campaigns"] as? [[String: Any]] ?? []
      #expect(campaigns.contains { ($0["id"] as? NSNumber)?.int64Value == campaign && $0["sent"] as? Int == 4 })

      try await WebDriver.withBrowser { browser in
        // No cookie: the page sends the browser to the login form.
        try await browser.open(f.url("/dashboard"))
        #expect(try await browser.currentURL() == f.url("/dashboard/login"))

        // A real key that is not an admin key is refused, and never shown back.
        try await browser.type(f.tenantKey, into: try await browser.find("#key"))
        try await browser.click(try await browser.find("#login"))
        try await eventually("the refusal", within: .seconds(30)) {
          (try? await browser.text(of: "#login-error"))?.contains("does not open the dashboard") == true
        }
        #expect(try await browser.cookie("whago_session") == nil)
        #expect(!(try await browser.source()).contains(f.tenantKey))

        // The admin key opens it, kept in an HttpOnly, SameSite=Strict cookie.
        try await browser.type(adminKey, into: try await browser.find("#key"))
        try await browser.click(try await browser.find("#login"))
        try await eventually("the overview after login", within: .seconds(30)) {
          guard try await browser.currentURL() == f.url("/dashboard") else { return false }
          return !(try await browser.findAll("#queue-\(q)-ready")).isEmpty
        }
        let cookie = try #require(try await browser.cookie("whago_session"))
        #expect(cookie["httpOnly"] as? Bool == true && cookie["sameSite"] as? String == "Strict")
        #expect(cookie["path"] as? String == "/dashboard")
        // The cookie is a session id, not the key.
        let session = try #require(cookie["value"] as? String)
        #expect(session != adminKey && !session.contains(adminKey))

        // Another site's page that posts the delete form at once: the browser does not send the
        // session with it, the server would refuse it anyway, and the job stays dead.
        let forged = """
          <form method="post" action="\(f.url("/dashboard/dead/delete"))">\
          <input name="queue" value="\(q)"><input name="id" value="\(s.wahaDead)"></form>\
          <script>document.forms[0].submit()</script>
          """
        try await browser.open(
          "data:text/html," + (forged.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
        try await eventually("the forged form to land", within: .seconds(30)) {
          try await browser.currentURL().hasPrefix(f.url("/dashboard"))
        }
        #expect(try await broker.deadIDs(queue: q).contains(s.wahaDead))
        try await browser.open(f.url("/dashboard"))
        try await eventually("the overview again", within: .seconds(30)) {
          !(try await browser.findAll("#queue-\(q)-ready")).isEmpty
        }

        // Every number of the queue's row is what Redis says.
        let now = try #require(try await broker.stats(queues: [q]).first)
        let expected: [(String, String)] = [
          ("ready", "\(now.ready)"), ("scheduled", "\(now.scheduled)"), ("active", "\(now.active)"),
          ("dead", "\(now.dead)"), ("paused", now.paused ? "yes" : "no"), ("processed", "\(now.processed)"),
          ("failed", "\(now.failed)"),
        ]
        #expect(
          expected.map(\.1) == ["3", "2", "1", "2", "no", "1", "2"], "the seed itself: \(expected)")
        for (name, value) in expected {
          #expect(try await browser.text(of: "#queue-\(q)-\(name)") == value, "\(name)")
        }
        // The chart holds the hour's processed and failed runs.
        #expect(try await browser.attribute(of: "#chart-\(q)", "data-processed") == "1")
        #expect(try await browser.attribute(of: "#chart-\(q)", "data-failed") == "2")
        #expect(try await browser.findAll("#chart-\(q) rect.processed").count == 1)
        // The campaign's progress bar and the worker's current job.
        #expect(try await browser.text(of: "#campaign-\(campaign)-done") == "5 / 10")
        #expect(try await browser.attribute(of: "#campaign-\(campaign)-progress", "value") == "5")
        #expect(try await browser.attribute(of: "#campaign-\(campaign)-progress", "max") == "10")
        #expect(try await browser.source().contains("Black Friday &lt;b&gt;"))
        #expect(try await browser.text(of: "#worker-dash-\(q)-running") == "1")
        #expect(try await browser.text(of: "#worker-dash-\(q)-jobs").contains(s.active))

        // The page keeps itself current: a job enqueued now shows up without a reload.
        _ = try await broker.enqueue(JobSpec(type: "diag.noop", queue: q))
        try await eventually("the refreshed ready count", within: .seconds(30), every: .milliseconds(250)) {
          try await browser.text(of: "#queue-\(q)-ready") == "4"
        }

        // Dead letters of the queue, then filtered by error text through the form.
        try await browser.open(f.url("/dashboard/dead?queue=\(q)"))
        var rows = try await browser.findAll("tr[data-dead-id]")
        var ids: Set<String> = []
        for row in rows { ids.insert(try await browser.attribute(row, "data-dead-id") ?? "") }
        #expect(ids == [s.gatewayDead, s.wahaDead])
        #expect(try await browser.source().contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        try await browser.type("waha", into: try await browser.find("#filter-error"))
        try await browser.click(try await browser.find("#filter-apply"))
        try await eventually("the filtered list", within: .seconds(30)) {
          try await browser.currentURL().contains("error=waha")
        }
        rows = try await browser.findAll("tr[data-dead-id]")
        #expect(rows.count == 1)
        #expect(try await browser.attribute(try #require(rows.first), "data-dead-id") == s.wahaDead)

        // Delete that one from the list (it asks first).
        try await browser.click(try await browser.find("#delete-\(s.wahaDead)"))
        try await browser.acceptAlert()
        try await eventually("the delete's flash message", within: .seconds(30)) {
          (try? await browser.text(of: "#flash")) == "deleted 1 job"
        }
        await #expect(throws: QueueError.self) { try await broker.job(id: s.wahaDead) }

        // The other one's page: payload and every attempt; Retry puts it back to work.
        try await browser.open(f.url("/dashboard/dead?queue=\(q)"))
        try await browser.click(try await browser.find("tr[data-dead-id='\(s.gatewayDead)'] a.show"))
        try await eventually("the dead job's page", within: .seconds(30)) {
          try await browser.currentURL() == f.url("/dashboard/dead/\(q)/\(s.gatewayDead)")
        }
        #expect(try await browser.text(of: "#job-state") == "dead")
        #expect(try await browser.text(of: "#job-tenant") == f.tenant)
        #expect(try await browser.text(of: "#job-payload").contains(s.marker))
        let attempts = try await browser.findAll("#job-attempts tr[data-attempt]")
        #expect(attempts.count == 1)
        #expect(try await browser.text(try #require(attempts.first)).contains("gateway said no"))
        try await browser.click(try await browser.find("#retry-\(s.gatewayDead)"))
        try await eventually("the retry's flash message", within: .seconds(30)) {
          (try? await browser.text(of: "#flash")) == "retried 1 job"
        }
        #expect(try await browser.text(of: "#job-state") == "ready")

        // Redis agrees: out of the dead set, ready again with a fresh budget, its history kept.
        let info = try await broker.job(id: s.gatewayDead)
        #expect(info.state == .ready && info.attempts == 0 && info.history.count == 1)
        #expect(try await broker.deadIDs(queue: q).isEmpty)
        let after = try #require(try await broker.stats(queues: [q]).first)
        #expect(after.dead == 0 && after.ready == 5)

        // The search box finds the same job by its id, from any page, in its new state.
        try await browser.type(s.gatewayDead, into: try await browser.find("#job-search"))
        try await browser.click(try await browser.find("#job-find"))
        try await eventually("the job's page from the search box", within: .seconds(30)) {
          try await browser.currentURL() == f.url("/dashboard/jobs/\(s.gatewayDead)")
        }
        #expect(try await browser.text(of: "#job-state") == "ready")
        #expect(try await browser.findAll("#job-timeline tbody tr").count >= 2)

        // Logging out ends the session on the server: the dashboard is closed again, and the old
        // cookie, replayed by hand, opens nothing.
        try await browser.click(try await browser.find("#logout"))
        try await eventually("the login page after logout", within: .seconds(30)) {
          try await browser.currentURL().hasPrefix(f.url("/dashboard/login"))
        }
        #expect(try await browser.cookie("whago_session") == nil)
        try await browser.open(f.url("/dashboard/dead?queue=\(q)"))
        #expect(try await browser.currentURL() == f.url("/dashboard/login"))
        let replayed = try await HTTP.send(
          "GET", f.url("/dashboard/api/overview"), headers: ["Cookie": "whago_session=\(session)"])
        #expect(replayed.status == 401)

        // A new login, left idle past its time (aged in PostgreSQL, whose clock decides): the next
        // page is the login form.
        try await browser.type(adminKey, into: try await browser.find("#key"))
        try await browser.click(try await browser.find("#login"))
        try await eventually("the overview after the second login", within: .seconds(30)) {
          try await browser.currentURL() == f.url("/dashboard")
        }
        let pool = try TestDatabase.pool(size: 1)
        defer { pool.close() }
        let aged = try await pool.query(
          """
          UPDATE dashboard_sessions s SET last_seen_at = last_seen_at - interval '31 minutes'
          FROM api_keys k WHERE k.id = s.api_key_id AND k.prefix = $1 AND s.revoked_at IS NULL
          """, [String(adminKey.dropFirst(6).prefix(12))])
        #expect(aged.affected >= 1)
        try await browser.open(f.url("/dashboard/dead?queue=\(q)"))
        #expect(try await browser.currentURL() == f.url("/dashboard/login"))
      }
    }
  }
}
