import BillingStore
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// A tenant changes its plan in the middle of a period, or its card: an upgrade is charged pro rata
/// once and applies when paid (its credits with it), a declined one leaves the plan alone, a
/// downgrade waits for the renewal, and a new card is charged at once when the account is past due.
@Suite struct PlanChangeTests {
  static let day: TimeInterval = 86_400

  /// The moment these tests act at: PostgreSQL's now plus 400 days. The end-to-end billing runs
  /// beside them sweep every subscription on schedule clocks that run days (never a year) ahead;
  /// periods and upgrades set this far out are never due on those clocks, so no other test's
  /// sweep charges, renews or voids what these tests check.
  static func isolatedNow() async throws -> Date {
    try await TestDatabase.now().addingTimeInterval(400 * day)
  }

  /// A business subscription 10 days into a 30-day period (less an hour), 2 000 of its 5 000
  /// credits spent.
  static func subscribed(_ store: Store, _ pool: PostgresPool, label: String = #function) async throws -> (
    tenant: String, subscription: Int64, now: Date, periodEnd: Date
  ) {
    let tenant = try await TestDatabase.tenant(plan: "free", label)
    let now = try await Self.isolatedNow()
    let periodEnd = now.addingTimeInterval(20 * day - 3600)
    let sub = try await store.createSubscription(
      tenant: tenant, plan: "business", gateway: "stripe", customer: "cus_\(tenant)", paymentMethod: "pm_card_visa",
      periodEnd: periodEnd)
    try await pool.query(
      "UPDATE subscriptions SET current_period_start = $2 WHERE id = $1", [sub.id, now.addingTimeInterval(-10 * day)])
    try await pool.query(
      """
      INSERT INTO credit_accounts (tenant_id, plan_credits_granted, plan_credits_left, period_start, period_end)
      SELECT id, 5000, 3000, $2, $3 FROM tenants WHERE name = $1
      """, [tenant, now.addingTimeInterval(-10 * day), periodEnd])
    return (tenant, sub.id, now, periodEnd)
  }

  static func events(_ pool: PostgresPool, tenant: String, kind: String) async throws -> [String] {
    try await pool.query(
      """
      SELECT e.payload::text AS payload FROM events e JOIN tenants t ON t.id = e.tenant_id
      WHERE t.name = $1 AND e.kind = $2 ORDER BY e.id
      """, [tenant, kind]
    ).rows.map { try $0.decode("payload", as: String.self) }
  }

  @Test func anUpgradeIsChargedProRataOnceAndAppliesWithItsCreditsWhenPaid() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let (tenant, subscription, now, periodEnd) = try await Self.subscribed(store, pool)

    let quote = try await store.changePlan(tenant: tenant, to: "enterprise", now: now)
    // (29 700 - 9 700) x 20 / 30 days = 13 333,33: R$ 133,33.
    #expect(quote.kind == .upgrade && quote.amountCents == 13_333 && !quote.applied)
    let invoice = try #require(quote.invoiceID)
    #expect(try await store.tenant(named: tenant).plan == "business", "nothing applies before it is paid")
    // Asked again: the same invoice. Another plan meanwhile: refused.
    #expect(try await store.changePlan(tenant: tenant, to: "enterprise", now: now).invoiceID == invoice)
    await #expect(throws: PlanChangeError.upgradePending(invoiceID: invoice, plan: "enterprise")) {
      try await store.changePlan(tenant: tenant, to: "free", now: now)
    }
    // Its job lost: the sweep finds it a minute later, not before.
    #expect(try await store.unchargedUpgrades(now: now).contains { $0.invoiceID == invoice } == false)
    #expect(try await store.unchargedUpgrades(now: now.addingTimeInterval(120)).contains { $0.invoiceID == invoice })

    let charge = try #require(try await store.prepareUpgradeCharge(invoiceID: invoice))
    #expect(charge.amountCents == 13_333 && charge.idempotencyKey == "whago-invoice-\(invoice)-attempt-1")
    #expect(charge.paymentMethod == "pm_card_visa")
    // A run that died mid-charge sends the same key again.
    let again = try #require(try await store.prepareUpgradeCharge(invoiceID: invoice))
    #expect(again.paymentID == charge.paymentID && again.idempotencyKey == charge.idempotencyKey)

    let state = try await store.recordCharge(charge, result: .succeeded(paymentID: "pi_up"), now: now)
    guard case .paid(let end, let resumed) = state else {
      Issue.record("the upgrade was not paid: \(String(describing: state))")
      return
    }
    #expect(abs(end.timeIntervalSince(periodEnd)) < 0.001 && resumed.isEmpty)
    #expect(try await store.tenant(named: tenant).plan == "enterprise")
    let (sub, invoices, _) = try await store.subscription(tenant: tenant)
    #expect(
      sub.plan == "enterprise" && abs(sub.currentPeriodEnd.timeIntervalSince(periodEnd)) < 0.001,
      "the period is not moved")
    let paid = try #require(invoices.first { $0.id == invoice })
    #expect(paid.kind == "proration" && paid.status == .paid && paid.amountCents == 13_333)
    // 20 000 a month, 2 000 already spent this period: 18 000 left.
    let credits = try await pool.query(
      """
      SELECT a.plan_credits_granted, a.plan_credits_left FROM credit_accounts a JOIN tenants t ON t.id = a.tenant_id
      WHERE t.name = $1
      """, [tenant])[0]
    #expect(try credits.decode("plan_credits_granted", as: Int.self) == 20_000)
    #expect(try credits.decode("plan_credits_left", as: Int.self) == 18_000)
    let changed = try await Self.events(pool, tenant: tenant, kind: "billing.plan_changed")
    #expect(changed.count == 1 && changed[0].contains("\"amount_cents\": 13333"), "\(changed)")
    // Settled: nothing more to charge, and the webhook's late copy of the same success changes nothing.
    #expect(try await store.prepareUpgradeCharge(invoiceID: invoice) == nil)
    #expect(try await store.recordCharge(charge, result: .succeeded(paymentID: "pi_up"), now: now) == nil)
    #expect(try await Self.events(pool, tenant: tenant, kind: "billing.plan_changed").count == 1)
    #expect(subscription == sub.id)
  }

  @Test func aDeclinedUpgradeLeavesThePlanAndMayBeAskedAgain() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let (tenant, subscription, now, _) = try await Self.subscribed(store, pool)

    let first = try #require(try await store.changePlan(tenant: tenant, to: "enterprise", now: now).invoiceID)
    let charge = try #require(try await store.prepareUpgradeCharge(invoiceID: first))
    let declined = ChargeResult.declined(paymentID: "pi_no", code: "insufficient_funds", advice: nil, hard: false)
    #expect(try await store.recordCharge(charge, result: declined, now: now) == .refused)
    #expect(try await store.tenant(named: tenant).plan == "business")
    let (sub, invoices, _) = try await store.subscription(tenant: tenant)
    #expect(sub.plan == "business" && sub.status == .active, "a declined upgrade is not a missed renewal")
    #expect(invoices.first { $0.id == first }?.status == .void)
    let failed = try await Self.events(pool, tenant: tenant, kind: "billing.payment_failed")
    #expect(failed.count == 1 && failed[0].contains("\"kind\": \"upgrade\""), "\(failed)")
    #expect(try await store.prepareUpgradeCharge(invoiceID: first) == nil, "declined: not charged again")

    // A new request is a new invoice; one left unpaid a day is voided by the sweep.
    let second = try #require(try await store.changePlan(tenant: tenant, to: "enterprise", now: now).invoiceID)
    #expect(second != first)
    // Scoped to this subscription: the other tests' upgrades, open at the same moment, are theirs.
    #expect(try await store.expireUnpaidUpgrades(now: now.addingTimeInterval(3600), subscriptionID: subscription) == 0)
    #expect(
      try await store.expireUnpaidUpgrades(now: now.addingTimeInterval(Self.day), subscriptionID: subscription) == 1)
    #expect(try await store.prepareUpgradeCharge(invoiceID: second) == nil)
  }

  @Test func aDowngradeWaitsForTheRenewalWhichChargesAndAppliesIt() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let tenant = try await TestDatabase.tenant(plan: "free")
    let now = try await Self.isolatedNow()
    let periodEnd = now.addingTimeInterval(3600)
    let sub = try await store.createSubscription(
      tenant: tenant, plan: "enterprise", gateway: "stripe", customer: "cus_\(tenant)", paymentMethod: "pm_card_visa",
      periodEnd: periodEnd)

    let down = try await store.changePlan(tenant: tenant, to: "business", now: now)
    #expect(
      down.kind == .downgrade && down.amountCents == 9_700 && abs(down.chargeAt.timeIntervalSince(periodEnd)) < 0.001
        && down.invoiceID == nil)
    #expect(try await store.subscription(tenant: tenant).0.nextPlan == "business")
    #expect(try await store.tenant(named: tenant).plan == "enterprise", "the paid month is kept")
    // Taken back, then asked again.
    #expect(try await store.changePlan(tenant: tenant, to: "enterprise", now: now).kind == .unchanged)
    #expect(try await store.subscription(tenant: tenant).0.nextPlan == nil)
    _ = try await store.changePlan(tenant: tenant, to: "business", now: now)

    let after = periodEnd.addingTimeInterval(60)
    await #expect(throws: PlanChangeError.renewalDue(tenant)) {
      try await store.changePlan(tenant: tenant, to: "enterprise", now: after)
    }
    let renewal = try #require(
      try await store.prepareCharge(subscriptionID: sub.id, periodStart: periodEnd, now: after))
    #expect(renewal.amountCents == 9_700, "the renewal charges the new plan's price")
    _ = try await store.recordCharge(renewal, result: .succeeded(paymentID: "pi_renew"), now: after)
    let renewed = try await store.subscription(tenant: tenant).0
    #expect(renewed.plan == "business" && renewed.nextPlan == nil)
    #expect(try await store.tenant(named: tenant).plan == "business")
  }

  @Test func aNewCardIsChargedAtOnceWhenPastDue() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let tenant = try await TestDatabase.tenant(plan: "free")
    let now = try await Self.isolatedNow()
    let periodEnd = now.addingTimeInterval(3600)
    let sub = try await store.createSubscription(
      tenant: tenant, plan: "business", gateway: "stripe", customer: "cus_\(tenant)", paymentMethod: "pm_card_visa",
      periodEnd: periodEnd)
    let after = periodEnd.addingTimeInterval(60)

    // Active: the card is kept for the next renewal, nothing charged now.
    let (_, none) = try await store.setPaymentMethod(tenant: tenant, method: "pm_card_mastercard", now: now)
    #expect(none == nil)

    let first = try #require(try await store.prepareCharge(subscriptionID: sub.id, periodStart: periodEnd, now: after))
    #expect(first.paymentMethod == "pm_card_mastercard")
    let declined = ChargeResult.declined(paymentID: "pi_1", code: "insufficient_funds", advice: nil, hard: false)
    #expect(
      try await store.recordCharge(first, result: declined, now: after) == .retryAt(after.addingTimeInterval(Self.day)))
    #expect(try await store.dueRenewals(now: after).contains { $0.subscriptionID == sub.id } == false)
    await #expect(throws: PlanChangeError.unpaid(tenant: tenant, status: .pastDue)) {
      try await store.changePlan(tenant: tenant, to: "enterprise", now: after)
    }

    let (updated, retry) = try await store.setPaymentMethod(tenant: tenant, method: "pm_card_amex", now: after)
    #expect(updated.paymentMethod == "pm_card_amex")
    let due = try #require(retry)
    #expect(
      due.subscriptionID == sub.id && abs(due.periodStart.timeIntervalSince(periodEnd)) < 0.001 && due.attempt == 2)
    // The sweep sees the same attempt due now, so both add one job under one key.
    #expect(try await store.dueRenewals(now: after).first { $0.subscriptionID == sub.id }?.attempt == 2)
    let second = try #require(try await store.prepareCharge(subscriptionID: sub.id, periodStart: periodEnd, now: after))
    #expect(
      second.attempt == 2 && second.paymentMethod == "pm_card_amex" && second.idempotencyKey != first.idempotencyKey)
    _ = try await store.recordCharge(second, result: .succeeded(paymentID: "pi_2"), now: after)
    #expect(try await store.subscription(tenant: tenant).0.status == .active)
  }

  /// Suspended after its three attempts: a new card asks for the unpaid invoice once more, at
  /// once. Refused, the account stays suspended (not past due); paid, it is active again.
  @Test func aSuspendedAccountsNewCardPaysTheInvoiceItGaveUpOn() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let tenant = try await TestDatabase.tenant(plan: "free")
    let now = try await Self.isolatedNow()
    let periodEnd = now.addingTimeInterval(3600)
    let sub = try await store.createSubscription(
      tenant: tenant, plan: "business", gateway: "stripe", customer: "cus_\(tenant)",
      paymentMethod: "pm_card_chargeDeclined", periodEnd: periodEnd)
    let declined = ChargeResult.declined(paymentID: nil, code: "insufficient_funds", advice: nil, hard: false)
    var at = periodEnd.addingTimeInterval(60)
    for _ in 1...3 {
      let attempt = try #require(try await store.prepareCharge(subscriptionID: sub.id, periodStart: periodEnd, now: at))
      if case .retryAt(let next) = try await store.recordCharge(attempt, result: declined, now: at) { at = next }
    }
    #expect(try await store.tenant(named: tenant).status == .suspended)
    #expect(try await store.prepareCharge(subscriptionID: sub.id, periodStart: periodEnd, now: at) == nil)

    // A new card, refused too: still suspended, not past due.
    let (_, retry) = try await store.setPaymentMethod(tenant: tenant, method: "pm_card_visa_debit", now: at)
    #expect(try #require(retry).attempt == 4)
    let fourth = try #require(try await store.prepareCharge(subscriptionID: sub.id, periodStart: periodEnd, now: at))
    #expect(fourth.attempt == 4 && fourth.paymentMethod == "pm_card_visa_debit")
    #expect(try await store.recordCharge(fourth, result: declined, now: at) == .suspended)
    #expect(try await store.subscription(tenant: tenant).0.status == .suspended)
    #expect(try await store.prepareCharge(subscriptionID: sub.id, periodStart: periodEnd, now: at) == nil, "once")

    // Another card, paid: active again, the invoice it gave up on paid.
    let (_, again) = try await store.setPaymentMethod(tenant: tenant, method: "pm_card_visa", now: at)
    let fifth = try #require(try await store.prepareCharge(subscriptionID: sub.id, periodStart: periodEnd, now: at))
    #expect(try #require(again).attempt == 5 && fifth.attempt == 5)
    guard case .paid = try await store.recordCharge(fifth, result: .succeeded(paymentID: "pi_back"), now: at) else {
      Issue.record("the new card's charge did not pay the invoice")
      return
    }
    let (back, invoices, _) = try await store.subscription(tenant: tenant)
    #expect(back.status == .active && invoices.first?.status == .paid)
    #expect(try await store.tenant(named: tenant).status == .active)
    #expect(try await Self.events(pool, tenant: tenant, kind: "billing.reactivated").count == 1)
    let failed = try await Self.events(pool, tenant: tenant, kind: "billing.payment_failed")
    #expect(failed.contains { $0.contains("recovery") }, "\(failed)")
  }

  @Test func aGatewayBilledSubscriptionChangesThere() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let tenant = try await TestDatabase.tenant(plan: "free")
    let now = try await Self.isolatedNow()
    _ = try await store.createSubscription(
      tenant: tenant, plan: "business", gateway: "mercadopago", customer: "payer@example.com", paymentMethod: nil,
      gatewaySubscriptionID: "preapproval_\(tenant)", periodEnd: now.addingTimeInterval(3600))
    await #expect(throws: PlanChangeError.gatewayBilled(tenant)) {
      try await store.changePlan(tenant: tenant, to: "enterprise", now: now)
    }
    await #expect(throws: PlanChangeError.gatewayBilled(tenant)) {
      try await store.setPaymentMethod(tenant: tenant, method: "pm_x", now: now)
    }
    #expect(try await store.tenant(named: tenant).plan == "business")
  }
}
