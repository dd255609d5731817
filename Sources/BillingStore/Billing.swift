import CampaignStore
import Foundation
import Postgres
import Store
import Wire

/// A subscription whose renewal (or next dunning attempt) is due, as the sweep finds it.
public struct DueRenewal: Sendable, Equatable {
  public var subscriptionID: Int64
  public var periodStart: Date
  public var tenant: String
  /// 1 for the first charge of the period; one more for each finished attempt.
  public var attempt: Int
}

/// One charge to make: the payment row is written (pending) before the gateway is called, with the
/// idempotency key the gateway will see. A run that dies after the call finds the row pending and
/// charges again with the same key, and the gateway answers with the first result.
public struct ChargeAttempt: Sendable, Equatable {
  public var paymentID: Int64
  public var invoiceID: Int64
  public var attempt: Int
  public var idempotencyKey: String
  public var amountCents: Int
  public var currency: String
  public var gateway: String
  public var customer: String
  public var paymentMethod: String
  public var tenant: String
  /// How the key was used before; nil when it was never sent.
  public var keyUse: KeyUse? = nil
}

/// What the gateway may remember of an attempt's key: how long ago it was first sent (past the
/// gateway's window it may be forgotten), how long since it was last sent (its search may not see
/// a charge that new), and whether the gateway stored an answer under it that is not an outcome.
public struct KeyUse: Sendable, Equatable {
  public var age: TimeInterval
  public var idle: TimeInterval
  public var unsettled: Bool

  public init(age: TimeInterval, idle: TimeInterval, unsettled: Bool) {
    self.age = age
    self.idle = idle
    self.unsettled = unsettled
  }

  /// Whether sending the key again could charge a second time or only replay a non-outcome: the
  /// charge must be looked up at the gateway first.
  public func needsLookUp(window: TimeInterval) -> Bool { unsettled || age >= window }
}

public enum BillingError: Error, CustomStringConvertible, Equatable {
  case attemptMoved(Int64)

  public var description: String {
    switch self {
    case .attemptMoved(let id):
      "payment \(id) was settled or given a new key by another run meanwhile; the renewal's retry reads it again"
    }
  }
}

extension Store {
  /// Subscriptions charged by us whose period ended, and open invoices whose next attempt is due.
  public func dueRenewals(now: Date) async throws -> [DueRenewal] {
    try await pool.query(
      """
      SELECT s.id, s.current_period_end AS period_start, t.name,
        1 + coalesce((SELECT count(*) FROM payments p WHERE p.invoice_id = i.id AND p.outcome <> 'pending'), 0)::int
          AS attempt
      FROM subscriptions s JOIN tenants t ON t.id = s.tenant_id
      LEFT JOIN invoices i ON i.subscription_id = s.id AND i.kind = 'renewal' AND i.period_start = s.current_period_end
      WHERE s.status IN ('active', 'past_due') AND NOT s.cancel_at_period_end AND s.payment_method IS NOT NULL
        AND s.current_period_end <= $1
        AND (i.id IS NULL OR (i.status = 'open' AND i.next_attempt_at <= $1))
      ORDER BY s.current_period_end
      """, [now]
    ).rows.map {
      DueRenewal(
        subscriptionID: try $0.decode("id"), periodStart: try $0.decode("period_start"), tenant: try $0.decode("name"),
        attempt: try $0.decode("attempt"))
    }
  }

  /// The charge to make for the subscription's period starting at `periodStart`, creating the
  /// invoice once; nil when there is nothing to charge (paid, not yet due, attempts used up).
  public func prepareCharge(subscriptionID: Int64, periodStart: Date, now: Date) async throws -> ChargeAttempt? {
    try await pool.transaction { connection in
      guard
        let sub = try connection.query(
          "SELECT \(Self.subscriptionColumns) FROM subscriptions WHERE id = $1 FOR UPDATE", [subscriptionID]
        ).decode(Subscription.self).first,
        sub.status.renews || sub.status == .suspended, !sub.cancelAtPeriodEnd, let method = sub.paymentMethod,
        abs(sub.currentPeriodEnd.timeIntervalSince(periodStart)) < 0.001
      else { return nil }
      // A suspended account is charged only for the invoice it gave up on, when a new card asked
      // for it (`setPaymentMethod` set its next attempt); never a new period.
      let recovering = sub.status == .suspended
      let plan = sub.nextPlan ?? sub.plan
      if !recovering {
        try connection.query(
          """
          INSERT INTO invoices (subscription_id, plan, period_start, period_end, amount_cents, next_attempt_at)
          SELECT $1, $2, $3::timestamptz, $3::timestamptz + interval '1 month', price_cents, $4 FROM plans WHERE name = $2
          ON CONFLICT (subscription_id, period_start) WHERE kind = 'renewal' DO NOTHING
          """, [subscriptionID, plan, periodStart, now])
      }
      guard
        let invoice = try connection.query(
          """
          SELECT id, kind, plan, period_start, period_end, amount_cents, status, next_attempt_at, paid_at, currency
          FROM invoices WHERE subscription_id = $1 AND kind = 'renewal' AND period_start = $2 FOR UPDATE
          """, [subscriptionID, periodStart]
        ).first
      else { return nil }
      let record = try invoice.decode(InvoiceRecord.self)
      guard record.status == (recovering ? .uncollectible : .open) else { return nil }
      let last = try connection.query(
        """
        SELECT id, attempt, idempotency_key, outcome, key_unsettled,
          extract(epoch FROM now() - key_sent_at)::float8 AS age, extract(epoch FROM now() - key_used_at)::float8 AS idle
        FROM payments WHERE invoice_id = $1 ORDER BY attempt DESC LIMIT 1
        """, [record.id]
      ).first
      let attempt: Int
      let paymentID: Int64
      let key: String
      var keyUse: KeyUse?
      if let last, try last.decode("outcome", as: String.self) == "pending" {
        // The last run died or timed out mid-charge: the same attempt, the same key.
        (attempt, paymentID, key) = (
          try last.decode("attempt"), try last.decode("id"), try last.decode("idempotency_key")
        )
        if let age = try last.decodeIfPresent("age", as: Double.self) {
          keyUse = KeyUse(
            age: age, idle: try last.decodeIfPresent("idle", as: Double.self) ?? age,
            unsettled: try last.decode("key_unsettled"))
        }
      } else {
        let previous = try last?.decode("attempt", as: Int.self) ?? 0
        guard previous < Dunning.attempts || recovering, let due = record.nextAttemptAt,
          due <= now.addingTimeInterval(0.001)
        else { return nil }
        attempt = previous + 1
        key = "whago-invoice-\(record.id)-attempt-\(attempt)"
        paymentID = try connection.query(
          """
          INSERT INTO payments (invoice_id, attempt, idempotency_key, gateway, amount_cents)
          VALUES ($1, $2, $3, $4, $5) RETURNING id
          """, [record.id, attempt, key, sub.gateway, record.amountCents]
        )[0].decode("id")
      }
      let tenant = try connection.query("SELECT name FROM tenants WHERE id = $1", [sub.tenantID])[0].decode(
        "name", as: String.self)
      return ChargeAttempt(
        paymentID: paymentID, invoiceID: record.id, attempt: attempt, idempotencyKey: key,
        amountCents: record.amountCents, currency: try invoice.decode("currency"), gateway: sub.gateway,
        customer: sub.gatewayCustomer, paymentMethod: method, tenant: tenant, keyUse: keyUse)
    }
  }

  /// Notes that the attempt's key goes to the gateway now (called just before the request).
  public func noteKeySent(_ charge: ChargeAttempt) async throws {
    try await pool.query(
      """
      UPDATE payments SET key_sent_at = coalesce(key_sent_at, now()), key_used_at = now()
      WHERE id = $1 AND idempotency_key = $2
      """, [charge.paymentID, charge.idempotencyKey])
  }

  /// Notes that the gateway stored an answer under the key that is not an outcome (a 5xx Stripe
  /// replays, a payment still processing): the next run looks the charge up rather than resend.
  public func noteKeyUnsettled(_ charge: ChargeAttempt) async throws {
    try await pool.query(
      "UPDATE payments SET key_unsettled = true WHERE id = $1 AND idempotency_key = $2",
      [charge.paymentID, charge.idempotencyKey])
  }

  /// The gateway has no charge under the attempt's key, and may not remember it: the attempt goes
  /// out again under a new key (`<attempt key>-r<n>`), never sent before. Returns the charge with it.
  public func renewKey(_ charge: ChargeAttempt) async throws -> ChargeAttempt {
    let rows = try await pool.query(
      """
      UPDATE payments SET key_renewals = key_renewals + 1,
        idempotency_key = $3 || '-r' || (key_renewals + 1), key_sent_at = NULL, key_used_at = NULL,
        key_unsettled = false
      WHERE id = $1 AND idempotency_key = $2 AND outcome = 'pending' RETURNING idempotency_key
      """, [charge.paymentID, charge.idempotencyKey, "whago-invoice-\(charge.invoiceID)-attempt-\(charge.attempt)"])
    guard let row = rows.first else { throw BillingError.attemptMoved(charge.paymentID) }
    var renewed = charge
    renewed.idempotencyKey = try row.decode("idempotency_key")
    renewed.keyUse = nil
    return renewed
  }

  /// Records the gateway's answer and moves the subscription on: paid (next period, plan credits
  /// reset), a retry days later, waiting for the customer, or suspended after the last attempt.
  /// Nil when the attempt was already settled (its webhook came first): nothing changes twice.
  public func recordCharge(_ charge: ChargeAttempt, result: ChargeResult, now: Date) async throws -> RenewalState? {
    try await pool.transaction { connection in try Self.settle(connection, charge, result: result, now: now) }
  }

  /// `recordCharge` inside the caller's transaction. An attempt is settled once: a pending one takes
  /// any outcome; one already declined (or waiting for the customer) still takes a success, since
  /// money the gateway took must pay the invoice; anything else changes nothing (nil).
  static func settle(
    _ connection: PostgresConnection, _ charge: ChargeAttempt, result: ChargeResult, now: Date
  ) throws -> RenewalState? {
    let (outcome, gatewayID, code, advice, error): (String, String?, String?, String?, String?) =
      switch result {
      case .succeeded(let id): ("succeeded", id, nil, nil, nil)
      case .declined(let id, let code, let advice, _): ("declined", id, code, advice, nil)
      case .requiresAction(let id): ("requires_action", id, nil, nil, nil)
      case .error(let message): ("error", nil, nil, nil, message)
      }
    let settled = try connection.query(
      """
      UPDATE payments SET outcome = $2, gateway_payment_id = coalesce($3, gateway_payment_id), decline_code = $4,
        advice_code = $5, error = $6, finished_at = now()
      WHERE id = $1 AND (outcome = 'pending'
        OR ($2 = 'succeeded' AND outcome IN ('declined', 'requires_action', 'error')))
      """, [charge.paymentID, outcome, gatewayID, code, advice, error]
    ).affected
    guard settled > 0 else { return nil }
    let sub = try connection.query(
      """
      SELECT s.id, s.tenant_id, i.kind FROM subscriptions s JOIN invoices i ON i.subscription_id = s.id
      WHERE i.id = $1 FOR UPDATE OF s
      """, [charge.invoiceID])[0]
    let subscriptionID: Int64 = try sub.decode("id")
    let tenantID: TenantID = try sub.decode("tenant_id")
    if try sub.decode("kind", as: String.self) == "proration" {
      return try settleUpgrade(
        connection, charge, result: result, subscriptionID: subscriptionID, tenantID: tenantID)
    }
    let givenUp = try connection.query(
      "SELECT status = 'uncollectible' AS given_up FROM invoices WHERE id = $1", [charge.invoiceID]
    )[0].decode("given_up", as: Bool.self)
    if givenUp {
      if case .succeeded = result {
        return try Self.markPaid(
          connection, invoiceID: charge.invoiceID, subscriptionID: subscriptionID, tenantID: tenantID)
      }
      // A suspended account's new card was refused too: it stays suspended, waiting for another.
      try connection.query(
        "UPDATE invoices SET next_attempt_at = NULL, updated_at = now() WHERE id = $1", [charge.invoiceID])
      try Self.recordEvent(
        connection, tenantID: tenantID, .billingPaymentFailed, subject: .invoice(charge.invoiceID),
        ["attempt": JSONValue(charge.attempt), "kind": "recovery"])
      return .suspended
    }
    switch Dunning.step(after: result, attempt: charge.attempt, now: now) {
    case .pay:
      return try Self.markPaid(
        connection, invoiceID: charge.invoiceID, subscriptionID: subscriptionID, tenantID: tenantID)
    case .retry(let next):
      try connection.query(
        "UPDATE invoices SET next_attempt_at = $2, updated_at = now() WHERE id = $1", [charge.invoiceID, next])
      try connection.query(
        "UPDATE subscriptions SET status = 'past_due', updated_at = now() WHERE id = $1", [subscriptionID])
      try Self.recordEvent(
        connection, tenantID: tenantID, .billingPaymentFailed, subject: .invoice(charge.invoiceID),
        ["attempt": JSONValue(charge.attempt), "next_attempt_at": .string(WireJSON.time(next))])
      return .retryAt(next)
    case .wait(let reason):
      try connection.query(
        "UPDATE invoices SET next_attempt_at = NULL, updated_at = now() WHERE id = $1", [charge.invoiceID])
      try connection.query(
        "UPDATE subscriptions SET status = 'past_due', updated_at = now() WHERE id = $1", [subscriptionID])
      switch reason {
      case .operatorMustLook:
        try Self.recordEvent(connection, tenantID: tenantID, .billingChargeError, subject: .invoice(charge.invoiceID))
      case .customerMustAct:
        try Self.recordEvent(
          connection, tenantID: tenantID, .billingActionRequired, subject: .invoice(charge.invoiceID),
          ["attempt": JSONValue(charge.attempt)])
      }
      return .waitingForCustomer
    case .suspend:
      try Self.suspend(
        connection, subscriptionID: subscriptionID, tenantID: tenantID, invoiceID: charge.invoiceID, at: now)
      return .suspended
    }
  }

  /// Past-due subscriptions nobody will retry (the customer had to act) whose dunning days have
  /// passed: suspended. Returns the tenants concerned.
  public func suspendOverdue(now: Date) async throws -> [String] {
    try await pool.transaction { connection in
      let rows = try connection.query(
        """
        SELECT s.id, s.tenant_id, i.id AS invoice_id, t.name FROM subscriptions s
        JOIN invoices i ON i.subscription_id = s.id AND i.kind = 'renewal' AND i.period_start = s.current_period_end
          AND i.status = 'open'
        JOIN tenants t ON t.id = s.tenant_id
        WHERE s.status = 'past_due' AND i.next_attempt_at IS NULL AND i.period_start + $2::interval <= $1
        FOR UPDATE OF s
        """, [now, "\(Int(Dunning.graceWithoutRetry)) seconds"])
      return try rows.rows.map { row in
        try Self.suspend(
          connection, subscriptionID: try row.decode("id"), tenantID: try row.decode("tenant_id"),
          invoiceID: try row.decode("invoice_id"), at: now)
        return try row.decode("name")
      }
    }
  }

  /// Cancelled subscriptions whose period has ended: the subscription ends and the tenant drops to
  /// the free plan (`billing.downgraded`, reason canceled). One cancelled while past due ends at
  /// the next sweep, its open invoice no longer collected. Returns the tenants concerned.
  public func endCanceledSubscriptions(now: Date) async throws -> [String] {
    try await pool.transaction { connection in
      let rows = try connection.query(
        """
        UPDATE subscriptions SET status = 'canceled', canceled_at = $1, updated_at = now()
        WHERE cancel_at_period_end AND status IN ('active', 'past_due') AND current_period_end <= $1
        RETURNING id, tenant_id
        """, [now])
      var names: [String] = []
      for row in rows.rows {
        let tenantID: TenantID = try row.decode("tenant_id")
        let subscriptionID: Int64 = try row.decode("id")
        try connection.query(
          "UPDATE invoices SET status = 'void', next_attempt_at = NULL, updated_at = now() WHERE subscription_id = $1 AND status = 'open'",
          [subscriptionID])
        names.append(
          try connection.query(
            "UPDATE tenants SET plan = 'free', status = 'active' WHERE id = $1 RETURNING name", [tenantID]
          )[0].decode("name"))
        try Self.enforceChipLimit(connection, tenantID: tenantID)
        try Self.recordEvent(
          connection, tenantID: tenantID, .billingDowngraded, subject: .subscription(subscriptionID),
          ["plan": "free", "reason": "canceled"])
      }
      return names
    }
  }

  /// Suspended for 7 days: the tenant drops to the free plan (its limits apply from the next
  /// token taken) and the subscription ends. Returns the tenants concerned.
  public func downgradeSuspended(now: Date) async throws -> [String] {
    try await pool.transaction { connection in
      let rows = try connection.query(
        """
        UPDATE subscriptions SET status = 'canceled', canceled_at = $1, updated_at = now()
        WHERE status = 'suspended' AND suspended_at + $2::interval <= $1
        RETURNING id, tenant_id
        """, [now, "\(Int(Dunning.suspensionBeforeFree)) seconds"])
      var names: [String] = []
      for row in rows.rows {
        let tenantID: TenantID = try row.decode("tenant_id")
        names.append(
          try connection.query(
            "UPDATE tenants SET plan = 'free', status = 'active' WHERE id = $1 RETURNING name", [tenantID]
          )[0].decode("name"))
        try Self.enforceChipLimit(connection, tenantID: tenantID)
        try Self.recordEvent(
          connection, tenantID: tenantID, .billingDowngraded, subject: .subscription(try row.decode("id")),
          ["plan": "free", "reason": "unpaid"])
      }
      return names
    }
  }

  private static func markPaid(
    _ connection: PostgresConnection, invoiceID: Int64, subscriptionID: Int64, tenantID: TenantID
  ) throws -> RenewalState {
    // An invoice given up on (the account suspended) is still paid by money that arrives late.
    let invoice = try connection.query(
      """
      UPDATE invoices SET status = 'paid', paid_at = now(), next_attempt_at = NULL, updated_at = now()
      WHERE id = $1 AND status IN ('open', 'uncollectible') RETURNING plan, period_start, period_end
      """, [invoiceID])
    guard let paid = invoice.first else {
      let end = try connection.query("SELECT current_period_end FROM subscriptions WHERE id = $1", [subscriptionID])
      return .paid(periodEnd: try end[0].decode("current_period_end"), resumed: [])
    }
    let plan: String = try paid.decode("plan")
    let start = paid.text("period_start")
    let end: Date = try paid.decode("period_end")
    try connection.query(
      """
      UPDATE subscriptions SET current_period_start = $2::timestamptz, current_period_end = $3, plan = $4,
        next_plan = NULL, status = 'active', suspended_at = NULL, updated_at = now()
      WHERE id = $1
      """, [subscriptionID, start, end, plan])
    let wasSuspended = try connection.query(
      "SELECT status = 'suspended' AS suspended FROM tenants WHERE id = $1 FOR UPDATE", [tenantID]
    )[0].decode("suspended", as: Bool.self)
    try connection.query("UPDATE tenants SET plan = $2, status = 'active' WHERE id = $1", [tenantID, plan])
    try Self.enforceChipLimit(connection, tenantID: tenantID)
    if wasSuspended {
      try recordEvent(
        connection, tenantID: tenantID, .billingReactivated, subject: .subscription(subscriptionID),
        ["plan": .string(plan)])
    }
    // Campaigns a suspension paused resume with the payment; their senders are launched by the
    // caller, or by `campaigns.sweep` if that is lost.
    let resumed = try Self.resume(connection, tenantID: tenantID, pausedFor: "tenant_suspended")
    // The new period's plan credits: reset, not carried over.
    let monthly = try connection.query("SELECT monthly_credits FROM plans WHERE name = $1", [plan])[0]
      .decodeIfPresent("monthly_credits", as: Int.self)
    if let monthly {
      try connection.query(
        """
        INSERT INTO credit_accounts (tenant_id, plan_credits_granted, plan_credits_left, period_start, period_end)
        VALUES ($1, $2, $2, $3::timestamptz, $4)
        ON CONFLICT (tenant_id) DO UPDATE SET plan_credits_granted = $2, plan_credits_left = $2,
          period_start = $3::timestamptz, period_end = $4, low_alerted_at = NULL, updated_at = now()
        """, [tenantID, monthly, start, end])
      if monthly > 0 {
        try connection.query(
          """
          INSERT INTO credit_ledger (tenant_id, delta, bucket, reason, period_start)
          VALUES ($1, $2, 'plan', 'period_reset', $3::timestamptz) ON CONFLICT DO NOTHING
          """, [tenantID, monthly, start])
      }
    }
    try recordEvent(
      connection, tenantID: tenantID, .billingPaid, subject: .invoice(invoiceID),
      ["plan": .string(plan), "period_end": .string(WireJSON.time(end))])
    return .paid(periodEnd: end, resumed: resumed)
  }

  private static func suspend(
    _ connection: PostgresConnection, subscriptionID: Int64, tenantID: TenantID, invoiceID: Int64, at now: Date
  ) throws {
    try connection.query(
      "UPDATE invoices SET status = 'uncollectible', next_attempt_at = NULL, updated_at = now() WHERE id = $1",
      [invoiceID])
    try connection.query(
      """
      UPDATE subscriptions SET status = 'suspended', suspended_at = coalesce(suspended_at, $2), updated_at = now()
      WHERE id = $1
      """, [subscriptionID, now])
    try connection.query("UPDATE tenants SET status = 'suspended' WHERE id = $1", [tenantID])
    try recordEvent(connection, tenantID: tenantID, .billingSuspended, subject: .invoice(invoiceID))
  }
}

extension Store {
  /// Whether a delivery was handled already: a cheap look before asking the gateway about it.
  public func alreadyDelivered(_ delivery: GatewayDelivery) async throws -> Bool {
    try await !pool.query(
      "SELECT 1 FROM webhook_events WHERE source = $1 AND event_id = $2", [delivery.source, delivery.eventID]
    ).isEmpty
  }

  /// A verified delivery that changes nothing here (an event type we do not act on): recorded once.
  public func recordGatewayDelivery(_ delivery: GatewayDelivery) async throws -> DeliveryOutcome {
    try await pool.transaction { connection in
      try Self.firstDelivery(connection, delivery) ? .recorded : .duplicate
    }
  }

  /// Records the delivery in the caller's transaction, with its effect: a failure between the two
  /// rolls both back, so the gateway's redelivery is applied rather than answered "duplicate".
  static func firstDelivery(_ connection: PostgresConnection, _ delivery: GatewayDelivery) throws -> Bool {
    try connection.query(
      """
      INSERT INTO webhook_events (source, event_id, event_type) VALUES ($1, $2, $3)
      ON CONFLICT (source, event_id) DO NOTHING
      """, [delivery.source, delivery.eventID, delivery.type]
    ).affected > 0
  }

  /// A gateway reported the outcome of one of our charges, whose answer we may never have seen (a
  /// timeout after charging): the attempt it names takes that outcome, as if the call had answered,
  /// in the same transaction as the delivery's record. The attempt is found by our idempotency key
  /// (sent with the charge as metadata; any key the attempt had, since a key the gateway may have
  /// forgotten is renewed as `<key>-r<n>`), else by the gateway's own payment id, else (a charge made
  /// before keys were sent) the invoice's pending attempt: a late outcome of attempt 2 never
  /// settles attempt 3.
  public func reconcileCharge(
    invoiceID: Int64, attemptKey: String?, gatewayPaymentID: String?, result: ChargeResult, now: Date,
    delivery: GatewayDelivery
  ) async throws -> DeliveryEffect {
    try await pool.transaction { connection in
      guard try Self.firstDelivery(connection, delivery) else { return DeliveryEffect(.duplicate) }
      let rows = try connection.query(
        """
        SELECT p.id, p.attempt, p.idempotency_key, p.amount_cents, i.currency, s.gateway, s.gateway_customer,
          coalesce(s.payment_method, '') AS payment_method, t.name
        FROM payments p JOIN invoices i ON i.id = p.invoice_id JOIN subscriptions s ON s.id = i.subscription_id
        JOIN tenants t ON t.id = s.tenant_id
        WHERE p.invoice_id = $1 AND CASE
          WHEN $2::text IS NOT NULL
            THEN regexp_replace(p.idempotency_key, '-r[0-9]+$', '') = regexp_replace($2, '-r[0-9]+$', '')
          WHEN $3::text IS NOT NULL AND EXISTS (SELECT 1 FROM payments q WHERE q.invoice_id = $1 AND q.gateway_payment_id = $3)
            THEN p.gateway_payment_id = $3
          ELSE p.outcome = 'pending' END
        ORDER BY p.attempt DESC LIMIT 1 FOR UPDATE OF p
        """, [invoiceID, attemptKey, gatewayPaymentID])
      guard let row = rows.first else { return DeliveryEffect(.recorded) }
      let charge = ChargeAttempt(
        paymentID: try row.decode("id"), invoiceID: invoiceID, attempt: try row.decode("attempt"),
        idempotencyKey: try row.decode("idempotency_key"), amountCents: try row.decode("amount_cents"),
        currency: try row.decode("currency"), gateway: try row.decode("gateway"),
        customer: try row.decode("gateway_customer"), paymentMethod: try row.decode("payment_method"),
        tenant: try row.decode("name"))
      let state = try Self.settle(connection, charge, result: result, now: now)
      return DeliveryEffect(applying: state)
    }
  }
}

/// A verified gateway webhook: whose, its event id (gateways deliver again until answered 2xx) and type.
public struct GatewayDelivery: Sendable, Equatable {
  public var source: String
  public var eventID: String
  public var type: String?
  public init(source: String, eventID: String, type: String?) {
    self.source = source
    self.eventID = eventID
    self.type = type
  }
}

/// What a delivery did: nothing (seen before), recorded without an effect, or applied.
public enum DeliveryOutcome: String, Sendable, Equatable {
  case duplicate, recorded, applied
}

/// What a payment delivery did, with the campaigns it resumed (a payment that lifted a suspension):
/// the caller launches those, and only those.
public struct DeliveryEffect: Sendable, Equatable {
  public var outcome: DeliveryOutcome
  public var resumed: [CampaignLaunch]

  init(_ outcome: DeliveryOutcome, resumed: [CampaignLaunch]) {
    self.outcome = outcome
    self.resumed = resumed
  }

  init(_ outcome: DeliveryOutcome, _ state: RenewalState? = nil) {
    self.outcome = outcome
    if case .paid(_, let resumed) = state { self.resumed = resumed } else { self.resumed = [] }
  }

  /// A delivery that reached a renewal: `.applied` with what it changed, or `.recorded` when no
  /// renewal state changed (nothing of ours matched).
  init(applying state: RenewalState?) {
    self.init(state == nil ? .recorded : .applied, state)
  }
}

extension Store {
  /// A payment the gateway made by itself for a subscription it runs (a Mercado Pago preapproval,
  /// a PayPal subscription), reported by its webhook: recorded once (keyed by the gateway's payment
  /// id) as an attempt on the current period's invoice. Approved pays the period and moves the
  /// subscription on, as a charge of ours would; rejected makes it past_due (the gateway retries).
  /// Recorded in the same transaction as the delivery itself; `.recorded` when no subscription has
  /// that gateway id or the payment was recorded before.
  public func recordGatewaySubscriptionPayment(
    gateway: String, gatewaySubscriptionID: String, paymentID: String, approved: Bool, declineCode: String?,
    now: Date, delivery: GatewayDelivery
  ) async throws -> DeliveryEffect {
    try await pool.transaction { connection -> DeliveryEffect in
      guard try Self.firstDelivery(connection, delivery) else { return DeliveryEffect(.duplicate) }
      let state = try Self.recordGatewaySubscriptionPayment(
        connection, gateway: gateway, gatewaySubscriptionID: gatewaySubscriptionID, paymentID: paymentID,
        approved: approved, declineCode: declineCode)
      return DeliveryEffect(applying: state)
    }
  }

  private static func recordGatewaySubscriptionPayment(
    _ connection: PostgresConnection, gateway: String, gatewaySubscriptionID: String, paymentID: String,
    approved: Bool, declineCode: String?
  ) throws -> RenewalState? {
    guard
      let sub = try connection.query(
        """
        SELECT \(Self.subscriptionColumns) FROM subscriptions
        WHERE gateway = $1 AND gateway_subscription_id = $2 FOR UPDATE
        """, [gateway, gatewaySubscriptionID]
      ).decode(Subscription.self).first
    else { return nil }
    let plan = sub.nextPlan ?? sub.plan
    try connection.query(
      """
      INSERT INTO invoices (subscription_id, plan, period_start, period_end, amount_cents)
      SELECT $1, $2, $3::timestamptz, $3::timestamptz + interval '1 month', price_cents FROM plans WHERE name = $2
      ON CONFLICT (subscription_id, period_start) WHERE kind = 'renewal' DO NOTHING
      """, [sub.id, plan, sub.currentPeriodEnd])
    let invoice = try connection.query(
      """
      SELECT id, amount_cents, status FROM invoices WHERE subscription_id = $1 AND kind = 'renewal' AND period_start = $2
      FOR UPDATE
      """,
      [sub.id, sub.currentPeriodEnd])[0]
    let invoiceID: Int64 = try invoice.decode("id")
    let recorded = try connection.query(
      """
      INSERT INTO payments (invoice_id, attempt, idempotency_key, gateway, gateway_payment_id, amount_cents, outcome,
        decline_code, finished_at)
      SELECT $1, coalesce(max(attempt), 0) + 1, $2, $3, $4, $5, $6, $7, now() FROM payments WHERE invoice_id = $1
      ON CONFLICT DO NOTHING
      """,
      [
        invoiceID, "\(gateway)-payment-\(paymentID)", gateway, paymentID,
        try invoice.decode("amount_cents", as: Int.self),
        approved ? "succeeded" : "declined", declineCode,
      ]
    ).affected
    guard recorded > 0 else { return nil }
    if approved {
      return try Self.markPaid(connection, invoiceID: invoiceID, subscriptionID: sub.id, tenantID: sub.tenantID)
    }
    try connection.query("UPDATE subscriptions SET status = 'past_due', updated_at = now() WHERE id = $1", [sub.id])
    try Self.recordEvent(
      connection, tenantID: sub.tenantID, .billingPaymentFailed, subject: .invoice(invoiceID),
      ["gateway": .string(gateway)])
    return .waitingForCustomer
  }
}
