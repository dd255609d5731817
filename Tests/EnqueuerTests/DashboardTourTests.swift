import Foundation
import JobQueue
import TestSupport
import Testing

extension EnqueuerSuite {
  /// Every dashboard page in a real headless Chromium, one action of each kind clicked through and
  /// checked in Redis: a bulk retry of a filtered dead set (counted, confirmed, its progress page
  /// followed to the end), run-now of a scheduled job, hand-back of a busy job. Each page is saved
  /// as a screenshot under `WHAGO_TEST_OUTPUT` (scripts/test: .run/test-output/screenshots).
  @Suite struct DashboardTourTests {
    static var screenshots: URL {
      let base =
        ProcessInfo.processInfo.environment["WHAGO_TEST_OUTPUT"] ?? NSTemporaryDirectory() + "whago-test-output"
      return URL(fileURLWithPath: base).appendingPathComponent("screenshots")
    }

    func save(_ browser: WebDriver, _ name: String) async throws {
      try FileManager.default.createDirectory(at: Self.screenshots, withIntermediateDirectories: true)
      let png = try await browser.screenshot()
      #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(name): not a PNG")
      try png.write(to: Self.screenshots.appendingPathComponent("\(name).png"))
    }

    @Test func everyPageOpensAndItsActionsChangeRedis() async throws {
      try await EnqueuerFixture.with { f in
        let created = try await TestDatabase.whago(["apikey", "create", "--admin", "--label", "tour", "--quiet"])
        let adminKey = try #require(created.split(separator: "\n").last.map(String.init))
        let broker = try TestRedis.broker()
        let q = TestRedis.queue("tour")
        // Three dead jobs whose error names the gateway, one other; a scheduled one; a running one.
        let dead = try await broker.enqueue(
          (0..<4).map { _ in JobSpec(type: "diag.fail", queue: q, maxAttempts: 1, tenant: f.tenant) }
        ).map(\.id)
        let leased = try await broker.fetch(queue: q, limit: 4, lease: .seconds(60), token: "tour:1").jobs
        try #require(Set(leased.map(\.id)) == Set(dead))
        for (n, job) in leased.enumerated() {
          _ = try await broker.fail(job, error: n < 3 ? "gateway refused" : "bad payload", retryAfter: nil)
        }
        let other = try #require(leased.last?.id)
        let scheduled = try await broker.enqueue(
          JobSpec(type: "diag.noop", queue: q, when: .after(.seconds(3600)), tenant: f.tenant)
        ).id
        let busy = try await broker.enqueue(JobSpec(type: "diag.noop", queue: q, tenant: f.tenant)).id
        try #require(
          try await broker.fetch(queue: q, limit: 1, lease: .seconds(600), token: "tour-worker:7").jobs.map(\.id) == [
            busy
          ])
        let tally = RunTally()
        for i in 0..<40 {
          tally.record(
            queue: q, type: "diag.noop", failed: i % 8 == 0, runtimeMs: Int64(5 + i), waitMs: 3,
            endedAt: try await broker.redisTime() - Int64(i % 5) * 60_000)
        }
        try await broker.addRunStats(tally.drain())

        try await WebDriver.withBrowser { browser in
          try await browser.open(f.url("/dashboard/login"))
          try await save(browser, "login")
          try await browser.type(adminKey, into: try await browser.find("#key"))
          try await browser.click(try await browser.find("#login"))
          try await eventually("the overview", within: .seconds(30)) {
            try await browser.currentURL() == f.url("/dashboard")
          }

          // Every page, as a person would reach it, each with its own heading and no error.
          let pages: [(String, String, String)] = [
            ("overview", "/dashboard", "Overview"), ("events", "/dashboard/events", "Events"),
            ("billing", "/dashboard/billing?tenant=\(f.tenant)", "Billing"),
            ("busy", "/dashboard/busy", "Busy"), ("scheduled", "/dashboard/scheduled?queue=\(q)", "Scheduled"),
            ("retries", "/dashboard/retries", "Retries"), ("dead", "/dashboard/dead?queue=\(q)", "Dead letters"),
            ("schedules", "/dashboard/schedules", "Schedules"), ("limits", "/dashboard/limits", "Limits"),
            ("tenants", "/dashboard/tenants", "Tenants"), ("tenant", "/dashboard/tenants/\(f.tenant)", "Tenant"),
            ("charts", "/dashboard/charts?queue=\(q)", "Charts"), ("job", "/dashboard/jobs/\(other)", "Job"),
            ("audit", "/dashboard/audit", "Audit"), ("containers", "/dashboard/containers", "Containers"),
          ]
          for (name, path, heading) in pages {
            try await browser.open(f.url(path))
            #expect(try await browser.currentURL() == f.url(path), "\(name) redirected")
            let title = try await browser.text(of: "header h1")
            #expect(title.contains(heading), "\(name): \(title)")
            #expect(try await browser.findAll("nav a[href='/dashboard/audit']").count == 1, "\(name) has no menu")
            if name == "charts" { #expect(try await browser.findAll("#chart-throughput rect").count >= 1) }
            if name == "containers" { #expect(try await browser.findAll("#container-totals dd").count == 5) }
            try await save(browser, name)
          }

          // Bulk retry of the filtered dead set: the link, the count, the confirmation, the progress.
          try await browser.open(f.url("/dashboard/dead?queue=\(q)&error=gateway"))
          try await browser.click(try await browser.find("#bulk-retry"))
          try await eventually("the confirmation", within: .seconds(30)) {
            (try? await browser.text(of: "#bulk-count")) == "3"
          }
          try await save(browser, "bulk-confirm")
          try await browser.click(try await browser.find("#bulk-go"))
          try await eventually(
            "the action's progress page to say done", within: .seconds(60), every: .milliseconds(250)
          ) {
            guard try await browser.currentURL().contains("/dashboard/audit/") else { return false }
            if (try? await browser.text(of: "#audit-state")) == "done" { return true }
            try await browser.open(try await browser.currentURL())
            return false
          }
          #expect(try await browser.text(of: "#audit-done") == "3")
          try await save(browser, "bulk-progress")
          for id in dead where id != other { #expect(try await broker.job(id: id).state == .ready) }
          #expect(try await broker.job(id: other).state == .dead)

          // Run-now of the scheduled job.
          try await browser.open(f.url("/dashboard/scheduled?queue=\(q)"))
          try await browser.click(try await browser.find("tr[data-waiting-id='\(scheduled)'] button.run-now"))
          try await eventually("the run-now flash", within: .seconds(30)) {
            (try? await browser.text(of: "#flash"))?.hasPrefix("Made ready") == true
          }
          #expect(try await broker.job(id: scheduled).state == .ready)

          // Hand-back of the busy job (it asks first).
          try await browser.open(f.url("/dashboard/busy"))
          try await browser.click(try await browser.find("tr[data-busy-id='\(busy)'] button.hand-back"))
          try await browser.acceptAlert()
          try await eventually("the hand-back flash", within: .seconds(30)) {
            (try? await browser.text(of: "#flash"))?.hasPrefix("Handed back") == true
          }
          #expect(try await broker.job(id: busy).state == .ready)

          // The trail names all three with the key's label.
          try await browser.open(f.url("/dashboard/audit"))
          let source = try await browser.source()
          for action in ["dead.retry", "scheduled.run-now", "busy.hand-back"] {
            #expect(source.contains(">\(action)<"), "\(action) is not on the trail")
          }
          #expect(try await browser.findAll("td.key").count >= 3)
          try await save(browser, "audit-after")
        }
      }
    }
  }
}
