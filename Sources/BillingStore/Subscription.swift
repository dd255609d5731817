import Foundation
import Postgres
import Store

/// How a tenant pays for its plan: the gateway, the customer and card there, and where it stands
/// in the billing cycle.
public struct Subscription: Codable, Sendable, Equatable {
  public var id: Int64
  public var tenantID: TenantID
  public var plan: String
  public var nextPlan: String?
  public var gateway: String
  public var gatewayCustomer: String
  public var paymentMethod: String?
  public var gatewaySubscriptionId: String?
  public var currentPeriodStart: Date
  public var currentPeriodEnd: Date
  public var status: SubscriptionStatus
  public var suspendedAt: Date?
  public var canceledAt: Date?
  /// Cancelled by the tenant: no renewal is charged, and the subscription ends with its period.
  public var cancelAtPeriodEnd: Bool
}

/// One period's bill and the attempts to collect it.
public struct InvoiceRecord: Codable, Sendable, Equatable {
  public var id: Int64
  /// `renewal` (a period) or `proration` (an upgrade's difference for the rest of a period).
  public var kind: String
  public var plan: String
  public var periodStart: Date
  public var periodEnd: Date
  public var amountCents: Int
  public var status: InvoiceStatus
  public var nextAttemptAt: Date?
  public var paidAt: Date?
}

public struct PaymentRecord: Codable, Sendable, Equatable {
  public var id: Int64
  public var invoiceId: Int64
  public var attempt: Int
  public var idempotencyKey: String
  public var gateway: String
  public var gatewayPaymentId: String?
  public var amountCents: Int
  public var outcome: String
  public var declineCode: String?
  public var error: String?
}

public enum SubscriptionError: Error, CustomStringConvertible, Equatable {
  case badGateway(String)
  case exists(String)
  case none(String)
  /// The subscription already ended (canceled): there is nothing to cancel or resume.
  case ended(String)

  public var description: String {
    switch self {
    case .badGateway(let name): "unknown gateway '\(name)'; use stripe, mercadopago or paypal"
    case .exists(let tenant): "tenant '\(tenant)' already has a subscription; see `whago subscription show \(tenant)`"
    case .none(let tenant): "tenant '\(tenant)' has no subscription; create one with `whago subscription create`"
    case .ended(let tenant):
      "tenant '\(tenant)''s subscription has ended; it is on the free plan and may subscribe again"
    }
  }
}

extension Store {
  static let subscriptionColumns =
    "id, tenant_id, plan, next_plan, gateway, gateway_customer, payment_method, gateway_subscription_id, "
    + "current_period_start, current_period_end, status, suspended_at, canceled_at, cancel_at_period_end"

  /// Starts billing a tenant on `plan` (which it is moved to now): the first renewal charges at
  /// `periodEnd` (default: a month from now).
  public func createSubscription(
    tenant name: String, plan: String, gateway: String, customer: String, paymentMethod: String?,
    gatewaySubscriptionID: String? = nil, periodEnd: Date?
  ) async throws -> Subscription {
    guard ["stripe", "mercadopago", "paypal"].contains(gateway) else { throw SubscriptionError.badGateway(gateway) }
    _ = try await self.plan(named: plan)
    let tenant = try await self.tenant(named: name)
    do {
      return try await pool.transaction { connection in
        try connection.query("UPDATE tenants SET plan = $2 WHERE id = $1", [tenant.id, plan])
        try Self.enforceChipLimit(connection, tenantID: tenant.id)
        return try connection.query(
          """
          INSERT INTO subscriptions (tenant_id, plan, gateway, gateway_customer, payment_method, gateway_subscription_id,
            current_period_end)
          VALUES ($1, $2, $3, $4, $5, $6, coalesce($7::timestamptz, now() + interval '1 month'))
          RETURNING \(Self.subscriptionColumns)
          """, [tenant.id, plan, gateway, customer, paymentMethod, gatewaySubscriptionID, periodEnd]
        )[0].decode(Subscription.self)
      }
    } catch let error as PostgresError where error.isUniqueViolation {
      throw SubscriptionError.exists(name)
    }
  }

  /// Cancels the tenant's subscription at its period's end (`cancel: true`), or undoes that before
  /// the period ends (`cancel: false`). Nothing is charged after a cancellation; the plan stays
  /// until `current_period_end`, then `endCanceledSubscriptions` moves the tenant to free.
  public func setCancelAtPeriodEnd(tenant name: String, cancel: Bool) async throws -> Subscription {
    let tenant = try await self.tenant(named: name)
    return try await pool.transaction { connection in
      guard
        let live = try connection.query(
          """
          UPDATE subscriptions SET cancel_at_period_end = $2, updated_at = now()
          WHERE tenant_id = $1 AND status <> 'canceled' RETURNING \(Self.subscriptionColumns)
          """, [tenant.id, cancel]
        ).decode(Subscription.self).first
      else {
        let any = try connection.query("SELECT 1 FROM subscriptions WHERE tenant_id = $1", [tenant.id]).count > 0
        throw any ? SubscriptionError.ended(name) : SubscriptionError.none(name)
      }
      return live
    }
  }

  /// The tenant's subscription with its latest invoices and payments, newest first.
  public func subscription(tenant name: String) async throws -> (Subscription, [InvoiceRecord], [PaymentRecord]) {
    let tenant = try await self.tenant(named: name)
    return try await pool.withConnection { connection in
      guard
        let subscription = try connection.query(
          """
          SELECT \(Self.subscriptionColumns) FROM subscriptions WHERE tenant_id = $1
          ORDER BY (status <> 'canceled') DESC, id DESC LIMIT 1
          """, [tenant.id]
        ).decode(Subscription.self).first
      else { throw SubscriptionError.none(name) }
      let invoices = try connection.query(
        """
        SELECT id, kind, plan, period_start, period_end, amount_cents, status, next_attempt_at, paid_at FROM invoices
        WHERE subscription_id = $1 ORDER BY period_start DESC, id DESC LIMIT 12
        """, [subscription.id]
      ).decode(InvoiceRecord.self)
      let payments = try connection.query(
        """
        SELECT p.id, p.invoice_id, p.attempt, p.idempotency_key, p.gateway, p.gateway_payment_id, p.amount_cents,
          p.outcome, p.decline_code, p.error
        FROM payments p JOIN invoices i ON i.id = p.invoice_id WHERE i.subscription_id = $1
        ORDER BY p.id DESC LIMIT 36
        """, [subscription.id]
      ).decode(PaymentRecord.self)
      return (subscription, invoices, payments)
    }
  }
}
