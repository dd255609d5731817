import BillingStore
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// Cancelling at the period's end, taking it back, and coming back after it ended: nothing is
/// charged after a cancellation, the paid plan lasts until the period ends, then the free plan
/// with an event, and the tenant can subscribe again with its history kept.
@Suite struct SubscriptionCancellationTests {
  @Test func aCancelledSubscriptionLastsItsPeriodThenFreeAndTheTenantMayReturn() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let tenant = try await TestDatabase.tenant(plan: "free", "cancel")
    let periodEnd = try await TestDatabase.now().addingTimeInterval(3600)
    let first = try await store.createSubscription(
      tenant: tenant, plan: "business", gateway: "stripe", customer: "cus_\(tenant)", paymentMethod: "pm_card_visa",
      periodEnd: periodEnd)
    func due(at now: Date) async throws -> Bool {
      try await store.dueRenewals(now: now).contains { $0.subscriptionID == first.id }
    }
    func plan() async throws -> String { try await store.tenant(named: tenant).plan }
    let after = periodEnd.addingTimeInterval(60)

    // Cancelled, then taken back before the end: renews as before.
    let cancelled = try await TestDatabase.whago(["subscription", "cancel", tenant])
    #expect(cancelled.contains("is cancelled: business until"), "\(cancelled)")
    #expect(try await due(at: after) == false)
    #expect(try await store.prepareCharge(subscriptionID: first.id, periodStart: periodEnd, now: after) == nil)
    _ = try await store.setCancelAtPeriodEnd(tenant: tenant, cancel: false)
    #expect(try await due(at: after))

    // Cancelled for good: the plan stays until the period ends, then free, once, with an event.
    _ = try await store.setCancelAtPeriodEnd(tenant: tenant, cancel: true)
    #expect(try await store.endCanceledSubscriptions(now: periodEnd.addingTimeInterval(-60)).isEmpty)
    #expect(try await plan() == "business")
    #expect(try await store.endCanceledSubscriptions(now: after) == [tenant])
    #expect(try await store.endCanceledSubscriptions(now: after).isEmpty)
    #expect(try await plan() == "free")
    let ended = try await store.subscription(tenant: tenant).0
    #expect(ended.id == first.id && ended.status == .canceled)
    let reasons = try await pool.query(
      """
      SELECT payload->>'reason' AS reason FROM events
      WHERE kind = 'billing.downgraded' AND subject_type = 'subscription' AND subject_id = $1
      """, [first.id]
    ).rows.map { try $0.decode("reason", as: String.self) }
    #expect(reasons == ["canceled"])
    // Nothing left to cancel or resume.
    await #expect(throws: SubscriptionError.ended(tenant)) {
      try await store.setCancelAtPeriodEnd(tenant: tenant, cancel: false)
    }

    // Back on a paid plan: a new subscription beside the old one, which keeps its invoices.
    let second = try await store.createSubscription(
      tenant: tenant, plan: "enterprise", gateway: "stripe", customer: "cus_\(tenant)", paymentMethod: "pm_card_visa",
      periodEnd: periodEnd.addingTimeInterval(86400))
    #expect(second.id != first.id)
    #expect(try await plan() == "enterprise")
    #expect(try await store.subscription(tenant: tenant).0.id == second.id)
    await #expect(throws: SubscriptionError.exists(tenant)) {
      try await store.createSubscription(
        tenant: tenant, plan: "business", gateway: "stripe", customer: "cus_\(tenant)", paymentMethod: "pm_card_visa",
        periodEnd: nil)
    }
    let count = try await pool.query(
      "SELECT count(*)::int AS n FROM subscriptions s JOIN tenants t ON t.id = s.tenant_id WHERE t.name = $1", [tenant]
    )[0].decode("n", as: Int.self)
    #expect(count == 2)
  }
}
