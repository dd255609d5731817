import BillingStore
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// What a payment gateway's webhook does to an invoice, against the real schema: it settles the
/// attempt it names and no other, a success still pays after a decline, and the delivery is
/// recorded in the same transaction as its effect, so a failure between the two loses nothing.
@Suite struct GatewayOutcomeTests {
  struct Fixture {
    let store: Store
    let pool: PostgresPool
    let tenant: String
    let invoiceID: Int64
    let keys: [String]
    let subscriptionID: Int64
    let periodStart: Date

    /// A business subscription past due: attempts 1 and 2 declined, attempt 3 in flight.
    static func start(label: String = #function) async throws -> Fixture {
      try await TestDatabase.migrate()
      let pool = try TestDatabase.pool(size: 2)
      let store = Store(pool: pool)
      let tenant = try await TestDatabase.tenant(plan: "free", label)
      let subscription = try await store.createSubscription(
        tenant: tenant, plan: "business", gateway: "stripe", customer: "cus_\(tenant)", paymentMethod: "pm_card_visa",
        periodEnd: try await TestDatabase.now().addingTimeInterval(3600))
      let invoiceID: Int64 = try await pool.query(
        """
        INSERT INTO invoices (subscription_id, plan, period_start, period_end, amount_cents)
        SELECT id, plan, current_period_end, current_period_end + interval '1 month', 9700 FROM subscriptions WHERE id = $1
        RETURNING id
        """, [subscription.id])[0].decode("id")
      let keys = (1...3).map { "whago-invoice-\(invoiceID)-attempt-\($0)" }
      for (attempt, key) in keys.enumerated() {
        let declined = attempt < 2
        try await pool.query(
          """
          INSERT INTO payments (invoice_id, attempt, idempotency_key, gateway, gateway_payment_id, amount_cents,
            outcome, decline_code, finished_at)
          VALUES ($1, $2, $3, 'stripe', $4, 9700, $5, $6, CASE WHEN $5 = 'pending' THEN NULL ELSE now() END)
          """,
          [
            invoiceID, attempt + 1, key, declined ? "pi_\(invoiceID)_\(attempt + 1)" : SQLNull(),
            declined ? "declined" : "pending", declined ? "card_declined" : SQLNull(),
          ])
      }
      try await pool.query("UPDATE subscriptions SET status = 'past_due' WHERE id = $1", [subscription.id])
      return Fixture(
        store: store, pool: pool, tenant: tenant, invoiceID: invoiceID, keys: keys, subscriptionID: subscription.id,
        periodStart: subscription.currentPeriodEnd)
    }

    func outcomes() async throws -> [String] {
      try await pool.query("SELECT outcome FROM payments WHERE invoice_id = $1 ORDER BY attempt", [invoiceID]).rows
        .map { try $0.decode("outcome") }
    }

    func state() async throws -> (invoice: String, subscription: String, tenant: String, events: [String]) {
      let row = try await pool.query(
        """
        SELECT i.status AS invoice, s.status AS subscription, t.status AS tenant,
          (SELECT coalesce(string_agg(kind, ',' ORDER BY id), '') FROM events WHERE tenant_id = t.id) AS events
        FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id JOIN tenants t ON t.id = s.tenant_id
        WHERE i.id = $1
        """, [invoiceID])[0]
      let events: String = try row.decode("events")
      return (
        try row.decode("invoice"), try row.decode("subscription"), try row.decode("tenant"),
        events.split(separator: ",").map(String.init)
      )
    }

    func delivery(_ id: String) -> GatewayDelivery {
      GatewayDelivery(source: "stripe", eventID: "evt_\(invoiceID)_\(id)", type: "payment_intent.payment_failed")
    }
  }

  @Test func aLateOutcomeSettlesTheAttemptItNamesAndNoOther() async throws {
    let f = try await Fixture.start()
    defer { f.pool.close() }
    let now = try await TestDatabase.now()
    // A stale decline of attempt 2: attempt 3 stays in flight, and the tenant is not suspended.
    let stale = try await f.store.reconcileCharge(
      invoiceID: f.invoiceID, attemptKey: f.keys[1], gatewayPaymentID: "pi_\(f.invoiceID)_2",
      result: .declined(paymentID: "pi_\(f.invoiceID)_2", code: "card_declined", advice: nil, hard: false), now: now,
      delivery: f.delivery("stale"))
    #expect(stale.outcome == .recorded)
    #expect(try await f.outcomes() == ["declined", "declined", "pending"])
    var state = try await f.state()
    #expect(state.subscription == "past_due" && state.tenant == "active" && state.invoice == "open")
    #expect(state.events.isEmpty, "\(state.events)")

    // Delivered again: a duplicate, nothing more.
    let again = try await f.store.reconcileCharge(
      invoiceID: f.invoiceID, attemptKey: f.keys[1], gatewayPaymentID: nil,
      result: .declined(paymentID: nil, code: "card_declined", advice: nil, hard: false), now: now,
      delivery: f.delivery("stale"))
    #expect(again.outcome == .duplicate)

    // The gateway took the money for attempt 2 after all: the invoice is paid, once.
    let success = try await f.store.reconcileCharge(
      invoiceID: f.invoiceID, attemptKey: f.keys[1], gatewayPaymentID: "pi_\(f.invoiceID)_2",
      result: .succeeded(paymentID: "pi_\(f.invoiceID)_2"), now: now, delivery: f.delivery("late-success"))
    #expect(success.outcome == .applied)
    #expect(try await f.outcomes() == ["declined", "succeeded", "pending"])
    state = try await f.state()
    #expect(state.invoice == "paid" && state.subscription == "active" && state.tenant == "active")
    #expect(state.events == ["billing.paid"])

    // A success of attempt 3 as well (the gateway charged twice) does not pay the period again.
    let second = try await f.store.reconcileCharge(
      invoiceID: f.invoiceID, attemptKey: f.keys[2], gatewayPaymentID: "pi_\(f.invoiceID)_3",
      result: .succeeded(paymentID: "pi_\(f.invoiceID)_3"), now: now, delivery: f.delivery("third"))
    #expect(second.outcome == .applied)
    #expect(try await f.state().events == ["billing.paid"])
  }

  @Test func aDeliveryWhoseEffectFailsIsNotRecordedAndItsRedeliveryApplies() async throws {
    let f = try await Fixture.start()
    defer { f.pool.close() }
    let now = try await TestDatabase.now()
    // The effect fails (as a lock timeout or a lost connection would) for this invoice's payments only.
    let trigger = "fail_\(f.invoiceID)"
    try await f.pool.query(
      """
      CREATE FUNCTION \(trigger)() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$
      """)
    try await f.pool.query(
      """
      CREATE TRIGGER \(trigger) BEFORE UPDATE ON payments FOR EACH ROW
      WHEN (OLD.invoice_id = \(f.invoiceID)) EXECUTE FUNCTION \(trigger)()
      """)
    let delivery = f.delivery("succeeded")
    let succeeded = ChargeResult.succeeded(paymentID: "pi_\(f.invoiceID)_3")
    do {
      _ = try await f.store.reconcileCharge(
        invoiceID: f.invoiceID, attemptKey: f.keys[2], gatewayPaymentID: nil, result: succeeded, now: now,
        delivery: delivery)
      Issue.record("the injected failure did not fail the delivery")
    } catch let error as PostgresError {
      #expect("\(error)".contains("injected failure"), "\(error)")
    }
    try await f.pool.query("DROP TRIGGER \(trigger) ON payments")
    try await f.pool.query("DROP FUNCTION \(trigger)()")
    // Nothing of it stayed: not the delivery, not the effect.
    #expect(try await f.store.alreadyDelivered(delivery) == false)
    #expect(try await f.outcomes() == ["declined", "declined", "pending"])

    // The gateway delivers again: applied, and paid once.
    let redelivered = try await f.store.reconcileCharge(
      invoiceID: f.invoiceID, attemptKey: f.keys[2], gatewayPaymentID: nil, result: succeeded, now: now,
      delivery: delivery)
    #expect(redelivered.outcome == .applied)
    #expect(try await f.outcomes() == ["declined", "declined", "succeeded"])
    let state = try await f.state()
    #expect(state.invoice == "paid" && state.events == ["billing.paid"])
  }

  /// An attempt whose key the gateway may have forgotten, looked up and found nowhere, goes out
  /// again under a new key; the key's age is what the next run reads, and a late webhook naming the
  /// attempt's first key still settles it.
  @Test func aRenewedKeyIsNewAndAWebhookNamingTheOldOneStillSettlesTheAttempt() async throws {
    let f = try await Fixture.start()
    defer { f.pool.close() }
    let now = try await TestDatabase.now()
    let pending = try #require(
      try await f.store.prepareCharge(subscriptionID: f.subscriptionID, periodStart: f.periodStart, now: now))
    #expect(pending.attempt == 3 && pending.idempotencyKey == f.keys[2] && pending.keyUse == nil)
    try await f.store.noteKeySent(pending)
    try await f.store.noteKeyUnsettled(pending)
    let sent = try #require(
      try await f.store.prepareCharge(subscriptionID: f.subscriptionID, periodStart: f.periodStart, now: now))
    let use = try #require(sent.keyUse)
    #expect(use.unsettled && use.age >= 0 && use.age < 3600)
    #expect(use.needsLookUp(window: 86_400))
    #expect(!KeyUse(age: use.age, idle: use.idle, unsettled: false).needsLookUp(window: 86_400))
    #expect(KeyUse(age: 86_400, idle: 10, unsettled: false).needsLookUp(window: 86_400))

    let renewed = try await f.store.renewKey(sent)
    #expect(renewed.idempotencyKey == f.keys[2] + "-r1" && renewed.keyUse == nil)
    let again = try #require(
      try await f.store.prepareCharge(subscriptionID: f.subscriptionID, periodStart: f.periodStart, now: now))
    #expect(again.idempotencyKey == f.keys[2] + "-r1" && again.keyUse == nil && again.paymentID == sent.paymentID)
    // The old key cannot be renewed twice by two runs at once.
    await #expect(throws: BillingError.attemptMoved(sent.paymentID)) { try await f.store.renewKey(sent) }

    // The gateway charged under the first key after all: its webhook settles attempt 3.
    let outcome = try await f.store.reconcileCharge(
      invoiceID: f.invoiceID, attemptKey: f.keys[2], gatewayPaymentID: "pi_late",
      result: .succeeded(paymentID: "pi_late"), now: now, delivery: f.delivery("late-first-key"))
    #expect(outcome.outcome == .applied)
    #expect(try await f.outcomes() == ["declined", "declined", "succeeded"])
  }
}
