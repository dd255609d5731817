import Foundation
import Postgres
import Store

extension Store {
  /// Changes the card the tenant's subscription is charged with. The next attempt uses it; a
  /// past-due subscription's open invoice is due again at once (its attempt count kept), and the
  /// renewal to enqueue now is returned, keyed as the sweep keys it, so both add one job at most.
  /// A suspended one's given-up invoice is due once more too, past its three attempts: the
  /// customer asked with a new card, which is what the suspension waited for.
  public func setPaymentMethod(tenant name: String, method: String, now: Date) async throws -> (
    Subscription, retry: DueRenewal?
  ) {
    let tenant = try await self.tenant(named: name)
    return try await pool.transaction { connection in
      guard
        let sub = try connection.query(
          """
          UPDATE subscriptions SET payment_method = $2, updated_at = now()
          WHERE tenant_id = $1 AND status <> 'canceled' AND gateway_subscription_id IS NULL
          RETURNING \(Self.subscriptionColumns)
          """, [tenant.id, method]
        ).decode(Subscription.self).first
      else {
        let live = try connection.query(
          "SELECT gateway_subscription_id IS NOT NULL AS billed FROM subscriptions WHERE tenant_id = $1 AND status <> 'canceled'",
          [tenant.id])
        if let row = live.first, try row.decode("billed", as: Bool.self) { throw PlanChangeError.gatewayBilled(name) }
        let any = try connection.query("SELECT 1 FROM subscriptions WHERE tenant_id = $1", [tenant.id]).count > 0
        throw any ? SubscriptionError.ended(name) : SubscriptionError.none(name)
      }
      // Past due: the next of its attempts, now. Suspended: its unpaid invoice once more, now, on
      // the customer's word (its dunning attempts are used up, so only a new card asks again).
      guard sub.status == .pastDue || sub.status == .suspended, !sub.cancelAtPeriodEnd else { return (sub, nil) }
      guard
        let invoice = try connection.query(
          """
          UPDATE invoices SET next_attempt_at = $3, updated_at = now()
          WHERE subscription_id = $1 AND kind = 'renewal' AND period_start = $2
            AND status = CASE WHEN $4 THEN 'uncollectible' ELSE 'open' END
          RETURNING id, (SELECT count(*) FROM payments p WHERE p.invoice_id = invoices.id AND p.outcome <> 'pending')::int
            AS finished
          """, [sub.id, sub.currentPeriodEnd, now, sub.status == .suspended]
        ).first
      else { return (sub, nil) }
      let attempt = try invoice.decode("finished", as: Int.self) + 1
      guard attempt <= Dunning.attempts || sub.status == .suspended else { return (sub, nil) }
      return (
        sub, DueRenewal(subscriptionID: sub.id, periodStart: sub.currentPeriodEnd, tenant: name, attempt: attempt)
      )
    }
  }
}
