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
  /// `/dashboard/jobs/{id}` in process: any job by id, found from the search box, its secrets
  /// masked, with the actions its state allows; cancel needs the form's token and changes Redis.
  /// And `/dashboard/schedules`, the cron schedules as Redis holds them.
  @Suite struct DashboardJobPageTests {
    typealias Browser = DashboardSessionTests.Browser

    @Test func anyJobIsFoundByIdShownWithSecretsMaskedAndCancelledFromItsPage() async throws {
      try await TestDatabase.migrate()
      let pool = try TestDatabase.pool(size: 1)
      defer { pool.close() }
      let key = try await Store(pool: pool).createAPIKey(tenant: nil, admin: true).key
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue("jobpage")
      let payload = #"{"n":1,"api_key":"sk_live_SECRET1","nested":{"client_secret":"SECRET2","note":"visible"}}"#
      let scheduled = try await broker.enqueue(
        JobSpec(
          type: "diag.noop", payload: payload, queue: queue, when: .after(.seconds(3600)), idempotencyKey: "order-77",
          tenant: "acme")
      ).id
      let dead = try await broker.enqueue(JobSpec(type: "diag.fail", queue: queue, maxAttempts: 1)).id
      let leased = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(60), token: "jobpage:1").jobs
      try #require(leased.map(\.id) == [dead])
      #expect(try await broker.fail(leased[0], error: "boom at step 3", retryAfter: nil) == .dead)

      try await withInProcessEnqueuer(broker: broker) { client in
        let browser = Browser(client: client)
        let session = try await browser.login(key)
        func location(_ uri: String) async throws -> (HTTPResponse.Status, String?) {
          try await client.execute(
            uri: uri, method: .get, headers: [.cookie: "\(DashboardSessionTests.AdminGateCookie.name)=\(session)"]
          ) { ($0.status, $0.headers[.location]) }
        }

        // The search box on every page, and where it leads.
        #expect(try await browser.get("/dashboard", cookie: session).body.contains("id=\"job-search\""))
        let found = try await location("/dashboard/jobs?id=\(scheduled)")
        #expect(found.0 == .seeOther && found.1 == "/dashboard/jobs/\(scheduled)")
        for nonsense in ["nope", "AAAAAAAAAAAAAA", "%3Cscript%3E"] {
          let missing = try await browser.get("/dashboard/jobs?id=\(nonsense)", cookie: session)
          #expect(missing.status == .notFound && missing.body.contains("id=\"job-missing\""))
          // The id is echoed escaped: the layout's own script is the page's only one.
          #expect(missing.body.components(separatedBy: "<script>").count == 2)
        }

        let page = try await browser.get("/dashboard/jobs/\(scheduled)", cookie: session)
        #expect(page.status == .ok)
        #expect(page.body.contains("data-job-state=\"scheduled\""))
        #expect(page.body.contains(">acme<") && page.body.contains(">order-77<"))
        #expect(!page.body.contains("SECRET1") && !page.body.contains("SECRET2"), "a secret is on the page")
        #expect(page.body.contains("visible") && page.body.contains(PayloadMask.shown))
        #expect(page.body.contains("id=\"cancel-job\"") && page.body.contains("id=\"job-timeline\""))

        // Cancel without the form's token: refused, still scheduled. With it: cancelled in Redis.
        let refused = try await browser.post("/dashboard/jobs/cancel", [("id", scheduled)], cookie: session)
        #expect(refused.status == .forbidden)
        #expect(try await broker.job(id: scheduled).state == .scheduled)
        let token = try await browser.csrf(session)
        let cancelled = try await browser.post(
          "/dashboard/jobs/cancel", [("id", scheduled), ("csrf", token)], cookie: session)
        #expect(cancelled.status == .seeOther && cancelled.location == "/dashboard/jobs/\(scheduled)?cancelled=1")
        #expect(try await broker.job(id: scheduled).state == .cancelled)
        let again = try await browser.post(
          "/dashboard/jobs/cancel", [("id", scheduled), ("csrf", token)], cookie: session)
        #expect(again.location == "/dashboard/jobs/\(scheduled)?cancelled=0")
        let after = try await browser.get("/dashboard/jobs/\(scheduled)?cancelled=0", cookie: session)
        #expect(after.body.contains("Not cancelled") && after.body.contains("id=\"job-no-actions\""))

        // A dead job's page offers retry and delete, and shows its error in the timeline.
        let deadPage = try await browser.get("/dashboard/jobs/\(dead)", cookie: session)
        #expect(deadPage.body.contains("data-job-state=\"dead\"") && deadPage.body.contains("boom at step 3"))
        #expect(deadPage.body.contains("action=\"/dashboard/dead/retry\""))
        let retried = try await browser.post(
          "/dashboard/dead/retry",
          [("queue", queue), ("id", dead), ("back", "/dashboard/jobs/\(dead)"), ("csrf", token)], cookie: session)
        #expect(retried.location == "/dashboard/jobs/\(dead)?retried=1")
        #expect(try await broker.job(id: dead).state == .ready)
      }
    }

    /// Every schedule of the catalog, with what Redis holds of its progress.
    @Test func theSchedulesPageShowsEveryScheduleAsRedisHoldsIt() async throws {
      try await TestDatabase.migrate()
      let pool = try TestDatabase.pool(size: 1)
      defer { pool.close() }
      let key = try await Store(pool: pool).createAPIKey(tenant: nil, admin: true).key
      let broker = try TestRedis.broker()
      let catalog = try JobCatalog.load(directory: ProcessInfo.processInfo.environment["WHAGO_JOBS_DIR"] ?? "jobs")
      try #require(!catalog.schedules.isEmpty)
      try await withInProcessEnqueuer(broker: broker) { client in
        let browser = Browser(client: client)
        let session = try await browser.login(key)
        // Workers of other tests may fire a schedule meanwhile: the page shows a count between
        // what Redis held before and after it was drawn.
        var before: [String: Int] = [:]
        for schedule in catalog.schedules {
          before[schedule.name] = try await broker.cronState(name: schedule.name, queue: schedule.queue).fired
        }
        let page = try await browser.get("/dashboard/schedules", cookie: session)
        #expect(page.status == .ok)
        #expect(page.body.contains("href=\"/dashboard/schedules\""))
        for schedule in catalog.schedules {
          let start = try #require(
            page.body.range(of: "<tr data-schedule=\"\(schedule.name)\""), "no row for \(schedule.name)")
          let row = String(page.body[start.lowerBound...].prefix { $0 != "\n" })
          #expect(row.contains(schedule.timeZone.identifier) && row.contains(schedule.jobType))
          let after = try await broker.cronState(name: schedule.name, queue: schedule.queue).fired
          let shown = try #require(
            row.range(of: "<td class=\"n fired\">").map { Int(row[$0.upperBound...].prefix { $0.isNumber }) } ?? nil)
          #expect((before[schedule.name] ?? 0)...after ~= shown, "\(row)")
        }
      }
    }

    /// A job held under a lease is listed with the worker that holds it, its tenant and attempt.
    @Test func theBusyPageShowsEachRunningJobWithItsWorker() async throws {
      try await TestDatabase.migrate()
      let pool = try TestDatabase.pool(size: 1)
      defer { pool.close() }
      let key = try await Store(pool: pool).createAPIKey(tenant: nil, admin: true).key
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue("busy")
      let id = try await broker.enqueue(JobSpec(type: "test.busy", queue: queue, maxAttempts: 3, tenant: "acme")).id
      let leased = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(600), token: "worker-busy-7:12").jobs
      try #require(leased.map(\.id) == [id])
      let running = try await broker.runningJobs(queue: queue)
      #expect(running.map(\.id) == [id])
      let job = try #require(running.first)
      #expect(job.worker == "worker-busy-7" && job.attempt == 1 && job.maxAttempts == 3 && job.tenant == "acme")
      #expect(job.leaseDeadline > (job.startedAt ?? .max))
      try await withInProcessEnqueuer(broker: broker) { client in
        let browser = Browser(client: client)
        let session = try await browser.login(key)
        let page = try await browser.get("/dashboard/busy", cookie: session)
        #expect(page.status == .ok)
        let start = try #require(page.body.range(of: "<tr data-busy-id=\"\(id)\""), "no row for the running job")
        let row = String(page.body[start.lowerBound...].prefix { $0 != "\n" })
        #expect(row.contains(">worker-busy-7<") && row.contains(">test.busy<") && row.contains(">acme<"), "\(row)")
        #expect(row.contains("1 of 3") && row.contains(">in "), "\(row)")
      }
      _ = try await broker.fail(leased[0], error: "listed", retryAfter: nil)
    }

    @Test func secretFieldsAreMaskedAtAnyDepth() {
      let shown = PayloadMask.pretty(
        #"{"Authorization":"Bearer x1","list":[{"card_number":"4111"}],"webhook-secret":"s","phone":"+55","key":null}"#)
      #expect(!shown.contains("x1") && !shown.contains("4111") && !shown.contains("\"s\""))
      #expect(shown.contains("+55") && shown.contains("null"))
      #expect(PayloadMask.pretty("not json") == "not json")
    }
  }
}
