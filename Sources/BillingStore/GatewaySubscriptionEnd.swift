import Foundation
import Postgres
import Store
import Wire

/// A subscription the gateway bills by itself, as the reconciliation looks it up there.
public struct GatewayBilledSubscription: Sendable, Equatable {
  public var subscriptionID: Int64
  public var gateway: String
  public var gatewaySubscriptionID: String
  public var tenant: String
}

extension Store {
  /// The gateway says a subscription it bills has ended (Mercado Pago: cancelled or paused;
  /// PayPal: cancelled, suspended or expired): it charges nothing more, so the period paid for
  /// runs to its end and then the tenant moves to the free plan (`endCanceledSubscriptions`, event
  /// `billing.downgraded`), as a cancellation here does. The tenant hears it now
  /// (`billing.cancelled`). A webhook's delivery is recorded with the change, once; the daily
  /// reconciliation calls this without one. `.applied` when it changed something.
  public func endGatewaySubscription(
    gateway: String, gatewaySubscriptionID: String, status: String, delivery: GatewayDelivery?
  ) async throws -> DeliveryOutcome {
    try await pool.transaction { connection in
      if let delivery, try !Self.firstDelivery(connection, delivery) { return .duplicate }
      guard
        let row = try connection.query(
          """
          UPDATE subscriptions SET cancel_at_period_end = true, updated_at = now()
          WHERE gateway = $1 AND gateway_subscription_id = $2 AND status <> 'canceled' AND NOT cancel_at_period_end
          RETURNING id, tenant_id, current_period_end
          """, [gateway, gatewaySubscriptionID]
        ).first
      else { return .recorded }
      try Self.recordEvent(
        connection, tenantID: try row.decode("tenant_id"), .billingCancelled,
        subject: .subscription(try row.decode("id")),
        [
          "reason": "gateway", "gateway": .string(gateway), "gateway_status": .string(status),
          "ends_at": .string(WireJSON.time(try row.decode("current_period_end", as: Date.self))),
        ])
      return .applied
    }
  }

  /// The live subscriptions that gateways bill by themselves and that nothing has ended yet.
  public func gatewayBilledSubscriptions() async throws -> [GatewayBilledSubscription] {
    try await pool.query(
      """
      SELECT s.id, s.gateway, s.gateway_subscription_id, t.name FROM subscriptions s JOIN tenants t ON t.id = s.tenant_id
      WHERE s.gateway_subscription_id IS NOT NULL AND s.status <> 'canceled' AND NOT s.cancel_at_period_end
      ORDER BY s.id
      """
    ).rows.map {
      GatewayBilledSubscription(
        subscriptionID: try $0.decode("id"), gateway: try $0.decode("gateway"),
        gatewaySubscriptionID: try $0.decode("gateway_subscription_id"), tenant: try $0.decode("name"))
    }
  }
}
