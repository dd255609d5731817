import BillingStore
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// `whago tenant set-plan` on a subscriber: the subscription follows, so the next renewal charges
/// and applies the operator's plan instead of quietly putting the tenant back on the old one.
@Suite struct OperatorPlanChangeTests {
  @Test func theNextRenewalChargesThePlanTheOperatorSet() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let tenant = try await TestDatabase.tenant(plan: "free", "setplan")
    let subscription = try await store.createSubscription(
      tenant: tenant, plan: "business", gateway: "stripe", customer: "cus_\(tenant)", paymentMethod: "pm_card_visa",
      periodEnd: try await TestDatabase.now().addingTimeInterval(3600))
    // A downgrade the tenant had scheduled: the operator's choice replaces it.
    try await pool.query("UPDATE subscriptions SET next_plan = 'free' WHERE id = $1", [subscription.id])

    let output = try await TestDatabase.whago(["tenant", "set-plan", tenant, "enterprise"])
    #expect(output.contains("is now on plan enterprise; subscription \(subscription.id) renews on it"), "\(output)")
    let (renewing, _, _) = try await store.subscription(tenant: tenant)
    #expect(renewing.plan == "enterprise" && renewing.nextPlan == nil)

    let charge = try #require(
      try await store.prepareCharge(
        subscriptionID: subscription.id, periodStart: renewing.currentPeriodEnd,
        now: try await TestDatabase.now()))
    let enterprise = try await store.plan(named: "enterprise")
    #expect(charge.amountCents == enterprise.priceCents)
    let invoice = try await pool.query("SELECT plan FROM invoices WHERE id = $1", [charge.invoiceID])[0]
    #expect(try invoice.decode("plan", as: String.self) == "enterprise")

    // A tenant that is not billed just moves, and says so.
    let unbilled = try await TestDatabase.tenant(plan: "free", "setplan-free")
    let moved = try await TestDatabase.whago(["tenant", "set-plan", unbilled, "business"])
    #expect(moved.contains("is now on plan business (no subscription: not billed)"), "\(moved)")
  }
}
