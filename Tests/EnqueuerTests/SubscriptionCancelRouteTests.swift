import BillingStore
import Enqueuer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Store
import TestSupport
import Testing

/// `POST /v1/subscription/cancel` and `/resume`, in process: the tenant (or WHAGO's backend for
/// it) cancels at the period's end and takes it back; without a subscription the answer says so.
@Suite struct SubscriptionCancelRouteTests {
  @Test func aTenantCancelsAndResumesItsSubscription() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let tenant = try await TestDatabase.tenant(plan: "enterprise", "cancelroute")
    let other = try await TestDatabase.tenant(plan: "enterprise", "cancelroute-none")
    let key = try await store.createAPIKey(tenant: tenant).key
    let otherKey = try await store.createAPIKey(tenant: other).key
    let serviceKey = try await store.createAPIKey(tenant: nil).key
    _ = try await store.createSubscription(
      tenant: tenant, plan: "enterprise", gateway: "stripe", customer: "cus_\(tenant)", paymentMethod: "pm_card_visa",
      // Far ahead: suites that run billing sweeps on a compressed clock (weeks ahead within a run)
      // share this database, and their sweep ends every cancelled subscription whose period is
      // over by their clock, this one too (CI saw it end between the cancel and the resume).
      periodEnd: try await TestDatabase.now().addingTimeInterval(3650 * 86_400))

    try await withInProcessEnqueuer { client in
      let (cancelled, body, _) = try await callAPI(client, .post, "/v1/subscription/cancel", key: key)
      #expect(cancelled == .ok && body["cancel_at_period_end"] as? Bool == true, "\(body)")
      #expect(body["plan"] as? String == "enterprise" && body["status"] as? String == "active")
      let (resumed, again, _) = try await callAPI(
        client, .post, "/v1/subscription/resume", key: serviceKey, tenant: tenant)
      #expect(resumed == .ok && again["cancel_at_period_end"] as? Bool == false, "\(again)")
      let (none, problem, _) = try await callAPI(client, .post, "/v1/subscription/cancel", key: otherKey)
      #expect(none == .notFound && (problem["detail"] as? String)?.contains("has no subscription") == true)
    }
    #expect(try await store.subscription(tenant: tenant).0.cancelAtPeriodEnd == false)
  }
}
