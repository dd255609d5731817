import Foundation
import Postgres
import Store

/// A subscription someone on call may have to look at: past due, suspended, or ending.
public struct SubscriptionInTrouble: Sendable, Equatable, Decodable {
  public var tenant: String
  public var plan: String
  public var status: SubscriptionStatus
  public var gateway: String
  public var currentPeriodEnd: Date
  public var cancelAtPeriodEnd: Bool
}

/// A purchase with its tenant, for lists across tenants.
public struct TenantCreditPurchase: Sendable, Equatable {
  public var tenant: String
  public var purchase: CreditPurchase
}

extension Store {
  /// Past-due and suspended subscriptions, then those cancelling at their period's end, the
  /// soonest first.
  public func subscriptionsInTrouble(limit: Int = 100) async throws -> [SubscriptionInTrouble] {
    try await pool.query(
      """
      SELECT t.name AS tenant, s.plan, s.status, s.gateway, s.current_period_end, s.cancel_at_period_end
      FROM subscriptions s JOIN tenants t ON t.id = s.tenant_id
      WHERE s.status IN ('past_due', 'suspended') OR (s.status = 'active' AND s.cancel_at_period_end)
      ORDER BY (s.status = 'active'), s.current_period_end, s.id LIMIT $1
      """, [limit]
    ).decode(SubscriptionInTrouble.self)
  }

  /// Every tenant's newest purchases.
  public func recentCreditPurchases(limit: Int = 50) async throws -> [TenantCreditPurchase] {
    let columns = Self.purchaseColumns.split(separator: ",").map {
      "p." + $0.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return try await pool.query(
      """
      SELECT t.name AS tenant_name, \(columns.joined(separator: ", "))
      FROM credit_purchases p JOIN tenants t ON t.id = p.tenant_id ORDER BY p.id DESC LIMIT $1
      """, [limit]
    ).rows.map { TenantCreditPurchase(tenant: try $0.decode("tenant_name"), purchase: try Self.purchase($0)) }
  }
}
