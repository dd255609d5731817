import Foundation
import Postgres
import Store
import Wire

/// What a plan change will cost and when, as the tenant is told before anything is charged.
public struct PlanChangeQuote: Sendable, Equatable {
  public enum Kind: String, Sendable, Codable {
    /// Dearer: charged now, pro rata, and in force once paid.
    case upgrade
    /// Cheaper: in force from the next renewal, which charges the new price.
    case downgrade
    /// The plan it is on: a pending downgrade is dropped, nothing else changes.
    case unchanged
  }

  public var kind: Kind
  public var from: String
  public var to: String
  public var amountCents: Int
  public var chargeAt: Date
  /// The upgrade's invoice, charged by `billing.prorate`; nil when nothing is charged now.
  public var invoiceID: Int64?
  /// The new plan is in force already (a change that costs nothing now).
  public var applied: Bool
  public var subscriptionID: Int64
  public var tenant: String
}

public enum PlanChangeError: Error, CustomStringConvertible, Equatable {
  /// Past due or suspended: the open invoice comes first.
  case unpaid(tenant: String, status: SubscriptionStatus)
  /// Cancelled at the period's end: resume before changing.
  case cancelling(String)
  /// Another upgrade's charge is still open.
  case upgradePending(invoiceID: Int64, plan: String)
  /// The period is over and its renewal not paid yet.
  case renewalDue(String)
  /// Billed by the gateway (a Mercado Pago preapproval, a PayPal subscription): we cannot charge a difference.
  case gatewayBilled(String)
  /// `keep_chips` names chips the tenant does not have.
  case unknownChips([Int64])

  public var description: String {
    switch self {
    case .unpaid(let tenant, let status):
      "tenant '\(tenant)''s subscription is \(status.rawValue): pay the open invoice first (change the card with PUT /v1/subscription/payment-method)"
    case .cancelling(let tenant):
      "tenant '\(tenant)''s subscription is cancelled at the period's end: resume it first (POST /v1/subscription/resume)"
    case .upgradePending(let invoice, let plan):
      "an upgrade to '\(plan)' is being charged (invoice \(invoice)); wait for its outcome (GET /v1/subscription) and try again"
    case .renewalDue(let tenant):
      "tenant '\(tenant)''s period has ended and its renewal is being charged; change the plan once it is paid"
    case .gatewayBilled(let tenant):
      "tenant '\(tenant)''s subscription is billed by its gateway, which holds its plan and card: change them there, or start a new subscription"
    case .unknownChips(let ids):
      "no chip \(ids.map(String.init).joined(separator: ", ")) among the tenant's; list them with GET /v1/chips"
    }
  }
}

extension Store {
  /// Moves the tenant's subscription to `plan`, by WHAGO's rules: a dearer plan is charged now for
  /// the rest of the period (`Proration`) by a `proration` invoice whose payment applies it; a
  /// cheaper one becomes `next_plan`, which the next renewal charges and applies; the current plan
  /// drops a pending downgrade. Asking again for an upgrade being charged answers the same quote
  /// (the caller enqueues its charge again under the same key, which adds nothing).
  ///
  /// `keepChips`, when given, is the tenant's order of the chips to keep writable should a plan
  /// allow fewer than it has (see `enforceChipLimit`); it is kept whatever the change.
  public func changePlan(tenant name: String, to plan: String, keepChips: [Int64]? = nil, now: Date) async throws
    -> PlanChangeQuote
  {
    let target = try await self.plan(named: plan)
    let tenant = try await self.tenant(named: name)
    return try await pool.transaction { connection in
      if let keepChips {
        let list = "{" + keepChips.map(String.init).joined(separator: ",") + "}"
        let owned = Set(
          try connection.query(
            "SELECT id FROM chips WHERE tenant_id = $1 AND id = ANY($2::bigint[])", [tenant.id, list]
          ).rows.map { try $0.decode("id", as: Int64.self) })
        let unknown = keepChips.filter { !owned.contains($0) }
        guard unknown.isEmpty else { throw PlanChangeError.unknownChips(unknown) }
        try connection.query("UPDATE tenants SET keep_chips = $2::bigint[] WHERE id = $1", [tenant.id, list])
      }
      guard
        let sub = try connection.query(
          """
          SELECT \(Self.subscriptionColumns) FROM subscriptions
          WHERE tenant_id = $1 AND status <> 'canceled' FOR UPDATE
          """, [tenant.id]
        ).decode(Subscription.self).first
      else {
        let any = try connection.query("SELECT 1 FROM subscriptions WHERE tenant_id = $1", [tenant.id]).count > 0
        throw any ? SubscriptionError.ended(name) : SubscriptionError.none(name)
      }
      guard sub.status == .active else { throw PlanChangeError.unpaid(tenant: name, status: sub.status) }
      guard !sub.cancelAtPeriodEnd else { throw PlanChangeError.cancelling(name) }
      guard now < sub.currentPeriodEnd else { throw PlanChangeError.renewalDue(name) }
      let current =
        try connection.query(
          "SELECT price_cents FROM plans WHERE name = $1", [sub.plan]
        ).first?.decode("price_cents", as: Int.self) ?? 0
      func quote(_ kind: PlanChangeQuote.Kind, amount: Int, at: Date, invoice: Int64? = nil, applied: Bool)
        -> PlanChangeQuote
      {
        PlanChangeQuote(
          kind: kind, from: sub.plan, to: plan, amountCents: amount, chargeAt: at, invoiceID: invoice,
          applied: applied, subscriptionID: sub.id, tenant: name)
      }
      if let open = try connection.query(
        "SELECT id, plan, amount_cents FROM invoices WHERE subscription_id = $1 AND kind = 'proration' AND status = 'open'",
        [sub.id]
      ).first {
        let openPlan: String = try open.decode("plan")
        guard openPlan == plan else {
          throw PlanChangeError.upgradePending(invoiceID: try open.decode("id"), plan: openPlan)
        }
        return quote(
          .upgrade, amount: try open.decode("amount_cents"), at: now, invoice: try open.decode("id"), applied: false)
      }
      if plan == sub.plan {
        try connection.query(
          "UPDATE subscriptions SET next_plan = NULL, updated_at = now() WHERE id = $1", [sub.id])
        return quote(.unchanged, amount: 0, at: sub.currentPeriodEnd, applied: true)
      }
      if target.priceCents < current {
        try connection.query(
          "UPDATE subscriptions SET next_plan = $2, updated_at = now() WHERE id = $1", [sub.id, plan])
        return quote(.downgrade, amount: target.priceCents, at: sub.currentPeriodEnd, applied: false)
      }
      guard sub.gatewaySubscriptionId == nil, sub.paymentMethod != nil else {
        throw PlanChangeError.gatewayBilled(name)
      }
      let amount = Proration.amountCents(
        fromPriceCents: current, toPriceCents: target.priceCents, periodStart: sub.currentPeriodStart,
        periodEnd: sub.currentPeriodEnd, at: now)
      if amount == 0 {
        // As dear as the current plan: nothing to charge, in force at once.
        try Self.applyPlanChange(
          connection, subscriptionID: sub.id, tenantID: sub.tenantID, from: sub.plan, to: plan, amountCents: 0)
        return quote(.upgrade, amount: 0, at: now, applied: true)
      }
      let invoice: Int64 = try connection.query(
        """
        INSERT INTO invoices (subscription_id, kind, plan, from_plan, period_start, period_end, amount_cents,
          next_attempt_at)
        VALUES ($1, 'proration', $2, $3, $4, $5, $6, $4) RETURNING id
        """, [sub.id, plan, sub.plan, now, sub.currentPeriodEnd, amount]
      )[0].decode("id")
      return quote(.upgrade, amount: amount, at: now, invoice: invoice, applied: false)
    }
  }

  /// The charge for an upgrade's invoice: its one attempt (the same key again when a run died
  /// mid-charge); nil when it is settled, or its attempt was answered (a declined upgrade is asked
  /// for again, with a new invoice).
  public func prepareUpgradeCharge(invoiceID: Int64) async throws -> ChargeAttempt? {
    try await pool.transaction { connection in
      guard
        let row = try connection.query(
          """
          SELECT i.amount_cents, i.currency, s.id AS subscription_id, s.gateway, s.gateway_customer, s.payment_method,
            t.name
          FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id JOIN tenants t ON t.id = s.tenant_id
          WHERE i.id = $1 AND i.kind = 'proration' AND i.status = 'open' FOR UPDATE OF i
          """, [invoiceID]
        ).first,
        let method = try row.decodeIfPresent("payment_method", as: String.self)
      else { return nil }
      let amount: Int = try row.decode("amount_cents")
      let gateway: String = try row.decode("gateway")
      let last = try connection.query(
        """
        SELECT id, idempotency_key, outcome, key_unsettled,
          extract(epoch FROM now() - key_sent_at)::float8 AS age, extract(epoch FROM now() - key_used_at)::float8 AS idle
        FROM payments WHERE invoice_id = $1 ORDER BY attempt DESC LIMIT 1
        """, [invoiceID]
      ).first
      let paymentID: Int64
      let key: String
      var keyUse: KeyUse?
      if let last {
        guard try last.decode("outcome", as: String.self) == "pending" else { return nil }
        (paymentID, key) = (try last.decode("id"), try last.decode("idempotency_key"))
        if let age = try last.decodeIfPresent("age", as: Double.self) {
          keyUse = KeyUse(
            age: age, idle: try last.decodeIfPresent("idle", as: Double.self) ?? age,
            unsettled: try last.decode("key_unsettled"))
        }
      } else {
        key = "whago-invoice-\(invoiceID)-attempt-1"
        paymentID = try connection.query(
          """
          INSERT INTO payments (invoice_id, attempt, idempotency_key, gateway, amount_cents)
          VALUES ($1, 1, $2, $3, $4) RETURNING id
          """, [invoiceID, key, gateway, amount]
        )[0].decode("id")
      }
      return ChargeAttempt(
        paymentID: paymentID, invoiceID: invoiceID, attempt: 1, idempotencyKey: key, amountCents: amount,
        currency: try row.decode("currency"), gateway: gateway, customer: try row.decode("gateway_customer"),
        paymentMethod: method, tenant: try row.decode("name"), keyUse: keyUse)
    }
  }

  /// Upgrades whose charge should have been made by now (its `billing.prorate` job lost, say, when
  /// the enqueue after the request failed): the sweep enqueues them again, under the same key.
  public func unchargedUpgrades(now: Date) async throws -> [(invoiceID: Int64, tenant: String)] {
    try await pool.query(
      """
      SELECT i.id, t.name FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id
      JOIN tenants t ON t.id = s.tenant_id
      WHERE i.kind = 'proration' AND i.status = 'open' AND i.next_attempt_at <= $1::timestamptz - interval '1 minute'
        AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.invoice_id = i.id AND p.outcome <> 'pending')
      ORDER BY i.id
      """, [now]
    ).rows.map { (try $0.decode("id"), try $0.decode("name")) }
  }

  /// Upgrades left unpaid for a day (the customer never confirmed the charge): voided, so the
  /// tenant may ask again. A payment that still arrives applies the upgrade (see `settleUpgrade`).
  /// `subscriptionID` narrows it to one subscription; the sweep passes none.
  public func expireUnpaidUpgrades(now: Date, subscriptionID: Int64? = nil) async throws -> Int {
    try await pool.query(
      """
      UPDATE invoices SET status = 'void', next_attempt_at = NULL, updated_at = now()
      WHERE kind = 'proration' AND status = 'open' AND period_start + interval '1 day' <= $1::timestamptz
        AND ($2::bigint IS NULL OR subscription_id = $2)
      """, [now, subscriptionID]
    ).affected
  }

  /// The outcome of an upgrade's charge, in the caller's transaction: paid applies the plan (if the
  /// subscription is still on the plan it was quoted from; otherwise an operator is told, since
  /// money was taken for a change that cannot apply); a charge the customer must confirm waits
  /// for them; anything else voids the invoice and the plan stays as it was.
  static func settleUpgrade(
    _ connection: PostgresConnection, _ charge: ChargeAttempt, result: ChargeResult, subscriptionID: Int64,
    tenantID: TenantID
  ) throws -> RenewalState? {
    let periodEnd: Date = try connection.query(
      "SELECT current_period_end FROM subscriptions WHERE id = $1", [subscriptionID])[0].decode("current_period_end")
    switch result {
    case .succeeded:
      // Money taken pays the invoice, even one voided by a decline or by a day's wait.
      guard
        let paid = try connection.query(
          """
          UPDATE invoices SET status = 'paid', paid_at = now(), next_attempt_at = NULL, updated_at = now()
          WHERE id = $1 AND status IN ('open', 'void') RETURNING plan, from_plan, amount_cents
          """, [charge.invoiceID]
        ).first
      else { return .paid(periodEnd: periodEnd, resumed: []) }
      let from: String = try paid.decode("from_plan")
      let to: String = try paid.decode("plan")
      let amount: Int = try paid.decode("amount_cents")
      let stillFrom =
        try connection.query(
          "SELECT 1 FROM subscriptions WHERE id = $1 AND plan = $2 AND status <> 'canceled'", [subscriptionID, from]
        ).count > 0
      if stillFrom {
        try applyPlanChange(
          connection, subscriptionID: subscriptionID, tenantID: tenantID, from: from, to: to, amountCents: amount)
      } else {
        try recordEvent(
          connection, tenantID: tenantID, .billingChargeError, subject: .invoice(charge.invoiceID),
          [
            "reason": "upgrade_paid_after_plan_changed", "plan": .string(to), "amount_cents": JSONValue(amount),
          ])
      }
      return .paid(periodEnd: periodEnd, resumed: [])
    case .requiresAction:
      try connection.query(
        "UPDATE invoices SET next_attempt_at = NULL, updated_at = now() WHERE id = $1", [charge.invoiceID])
      try recordEvent(
        connection, tenantID: tenantID, .billingActionRequired, subject: .invoice(charge.invoiceID),
        ["attempt": JSONValue(1)])
      return .waitingForCustomer
    case .declined(_, let code, _, _):
      try voidUpgrade(connection, charge.invoiceID, tenantID: tenantID, reason: code ?? "declined")
      return .refused
    case .error:
      try voidUpgrade(connection, charge.invoiceID, tenantID: tenantID, reason: "error")
      return .refused
    }
  }

  private static func voidUpgrade(
    _ connection: PostgresConnection, _ invoiceID: Int64, tenantID: TenantID, reason: String
  ) throws {
    try connection.query(
      "UPDATE invoices SET status = 'void', next_attempt_at = NULL, updated_at = now() WHERE id = $1 AND status = 'open'",
      [invoiceID])
    try recordEvent(
      connection, tenantID: tenantID, .billingPaymentFailed, subject: .invoice(invoiceID),
      ["kind": "upgrade", "decline_code": .string(reason)])
  }

  /// Puts `to` in force now for the subscription and its tenant, drops a pending downgrade, and
  /// gives the new plan's monthly credits less what this period already spent (never below 0).
  static func applyPlanChange(
    _ connection: PostgresConnection, subscriptionID: Int64, tenantID: TenantID, from: String, to: String,
    amountCents: Int
  ) throws {
    try connection.query(
      "UPDATE subscriptions SET plan = $2, next_plan = NULL, updated_at = now() WHERE id = $1", [subscriptionID, to])
    try connection.query("UPDATE tenants SET plan = $2 WHERE id = $1", [tenantID, to])
    try enforceChipLimit(connection, tenantID: tenantID)
    let monthly = try connection.query("SELECT monthly_credits FROM plans WHERE name = $1", [to])[0]
      .decodeIfPresent("monthly_credits", as: Int.self)
    if let monthly,
      let account = try connection.query(
        "SELECT plan_credits_granted, plan_credits_left FROM credit_accounts WHERE tenant_id = $1 FOR UPDATE",
        [tenantID]
      ).first
    {
      let granted: Int = try account.decode("plan_credits_granted")
      let left: Int = try account.decode("plan_credits_left")
      let newLeft = max(0, monthly - (granted - left))
      try connection.query(
        """
        UPDATE credit_accounts SET plan_credits_granted = $2, plan_credits_left = $3, updated_at = now()
        WHERE tenant_id = $1
        """, [tenantID, monthly, newLeft])
      if newLeft != left {
        try connection.query(
          """
          INSERT INTO credit_ledger (tenant_id, delta, bucket, reason, note)
          VALUES ($1, $2, 'plan', 'adjustment', $3)
          """, [tenantID, newLeft - left, "plan change \(from) -> \(to)"])
      }
    }
    try recordEvent(
      connection, tenantID: tenantID, .billingPlanChanged, subject: .subscription(subscriptionID),
      ["from": .string(from), "to": .string(to), "amount_cents": JSONValue(amountCents)])
  }
}
