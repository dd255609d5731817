import BillingStore
import Enqueuer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobCatalog
import JobContracts
import JobQueue
import Postgres
import Store
import TestSupport
import Testing

/// `POST /v1/subscription/change` and `PUT /v1/subscription/payment-method`, in process: the
/// tenant is told what an upgrade costs (202, charged by one `billing.prorate` job however often
/// it asks) or when a downgrade applies (200), and bad or untimely requests say what to do. Paid
/// plans have no tenant API access (`api_requests_per_hour` 0), so WHAGO's backend asks for them.
@Suite struct PlanChangeRouteTests {
  @Test func anUpgradeIsQuotedAndQueuedOnceADowngradeWaitsAndMistakesAreExplained() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let up = try await TestDatabase.tenant(plan: "free", "planroute-up")
    let down = try await TestDatabase.tenant(plan: "free", "planroute-down")
    let none = try await TestDatabase.tenant(plan: "free", "planroute-none")
    let serviceKey = try await store.createAPIKey(tenant: nil).key
    // Suites that run billing sweeps on a compressed clock (days ahead of this one) share this
    // database and would renew these subscriptions or charge the open upgrade mid-test (CI saw a
    // sweep pay it between the two asks): this test's billing happens ten years ahead of Redis
    // time, out of any such run's reach.
    let redisNow = try await TestRedis.broker().redisTime()
    let ahead = redisNow + 3650 * 86_400_000
    var limits = EnqueuerServer.Limits()
    limits.clock = ScheduleClock(anchor: redisNow, start: ahead, speed: 1)
    let now = Date(timeIntervalSince1970: Double(ahead) / 1000)
    let upSub = try await store.createSubscription(
      tenant: up, plan: "business", gateway: "stripe", customer: "cus_\(up)", paymentMethod: "pm_card_visa",
      periodEnd: now.addingTimeInterval(20 * 86_400 - 3600))
    try await pool.query(
      "UPDATE subscriptions SET current_period_start = $2 WHERE id = $1",
      [upSub.id, now.addingTimeInterval(-10 * 86_400)])
    _ = try await store.createSubscription(
      tenant: down, plan: "enterprise", gateway: "stripe", customer: "cus_\(down)", paymentMethod: "pm_card_visa",
      periodEnd: now.addingTimeInterval(3600))

    try await withInProcessEnqueuer(limits: limits) { client in
      let (accepted, quote, _) = try await callAPI(
        client, .post, "/v1/subscription/change", key: serviceKey, tenant: up, json: #"{"plan":"enterprise"}"#)
      #expect(accepted == .accepted, "\(quote)")
      #expect(quote["change"] as? String == "upgrade" && quote["amount_cents"] as? Int == 13_333, "\(quote)")
      #expect(quote["applied"] as? Bool == false && quote["from"] as? String == "business")
      let invoice = try #require(quote["invoice_id"] as? Int)
      let (again, same, _) = try await callAPI(
        client, .post, "/v1/subscription/change", key: serviceKey, tenant: up, json: #"{"plan":"enterprise"}"#)
      #expect(again == .accepted && same["invoice_id"] as? Int == invoice)
      // Its charge was queued under the invoice's key: one more enqueue of it adds nothing.
      let catalog = try JobCatalog.load(directory: ProcessInfo.processInfo.environment["WHAGO_JOBS_DIR"] ?? "jobs")
      let queued = try await TestRedis.broker().enqueue(
        try BillingProrateJob.spec(invoiceID: Int64(invoice), tenant: up, catalog: catalog))
      #expect(queued.duplicate)

      let (pending, problem, _) = try await callAPI(
        client, .post, "/v1/subscription/change", key: serviceKey, tenant: up, json: #"{"plan":"free"}"#)
      #expect(pending == .conflict && (problem["type"] as? String)?.contains("plan-change-refused") == true)
      #expect((problem["detail"] as? String)?.contains("invoice \(invoice)") == true, "\(problem)")
      let (unknown, invalid, _) = try await callAPI(
        client, .post, "/v1/subscription/change", key: serviceKey, tenant: up, json: #"{"plan":"gold"}"#)
      #expect(unknown == .unprocessableContent && "\(invalid)".contains("/plan"), "\(invalid)")
      let (missing, _, _) = try await callAPI(
        client, .post, "/v1/subscription/change", key: serviceKey, tenant: up, json: "{}")
      #expect(missing == .unprocessableContent)
      let (_, view, _) = try await callAPI(client, .get, "/v1/subscription", key: serviceKey, tenant: up)
      let kinds = (view["invoices"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
      #expect(kinds == ["proration"], "\(view)")

      // A downgrade, asked by WHAGO's backend for the tenant: 200, at the period's end.
      let (ok, later, _) = try await callAPI(
        client, .post, "/v1/subscription/change", key: serviceKey, tenant: down, json: #"{"plan":"business"}"#)
      #expect(ok == .ok && later["change"] as? String == "downgrade" && later["amount_cents"] as? Int == 9_700)
      #expect(later["invoice_id"] == nil)
      let (_, downView, _) = try await callAPI(client, .get, "/v1/subscription", key: serviceKey, tenant: down)
      #expect(downView["next_plan"] as? String == "business" && downView["plan"] as? String == "enterprise")

      // A new card.
      let (changed, card, _) = try await callAPI(
        client, .put, "/v1/subscription/payment-method", key: serviceKey, tenant: down,
        json: #"{"payment_method":"pm_card_amex"}"#)
      #expect(changed == .ok && card["status"] as? String == "active", "\(card)")
      let (nothing, _, _) = try await callAPI(
        client, .put, "/v1/subscription/payment-method", key: serviceKey, tenant: none,
        json: #"{"payment_method":"pm_card_amex"}"#)
      #expect(nothing == .notFound)
    }
    #expect(try await store.subscription(tenant: down).0.paymentMethod == "pm_card_amex")
  }
}
