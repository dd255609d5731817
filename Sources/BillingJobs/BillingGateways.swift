import Foundation
import OutboundHTTP
import Payments

/// The gateways this process can charge through, from its environment: base URLs
/// (`WHAGO_STRIPE_API_URL`, `WHAGO_MERCADOPAGO_API_URL`, `WHAGO_PAYPAL_API_URL`; the real ones by
/// default) and credentials (`WHAGO_STRIPE_SECRET_KEY`, `WHAGO_MERCADOPAGO_ACCESS_TOKEN`,
/// `WHAGO_PAYPAL_CLIENT_ID` and `WHAGO_PAYPAL_CLIENT_SECRET`). A gateway without credentials is
/// absent, and a renewal for it fails with a message that names the variable to set.
public struct BillingGateways: Sendable {
  let gateways: [String: any PaymentGateway]
  /// How long a gateway is trusted to remember an idempotency key (Stripe prunes them after 24 h).
  let keyWindow: TimeInterval

  public init(
    environment: [String: String], http: HTTPClient, timeout: Duration = .seconds(30),
    keyWindow: Duration = .seconds(86_400)
  ) {
    let (seconds, attoseconds) = keyWindow.components
    self.keyWindow = Double(seconds) + Double(attoseconds) / 1e18
    var gateways: [String: any PaymentGateway] = [:]
    if let key = environment["WHAGO_STRIPE_SECRET_KEY"], !key.isEmpty {
      gateways["stripe"] = StripeGateway(
        baseURL: environment["WHAGO_STRIPE_API_URL"] ?? "https://api.stripe.com", secretKey: key, http: http,
        timeout: timeout)
    }
    if let token = environment["WHAGO_MERCADOPAGO_ACCESS_TOKEN"], !token.isEmpty {
      gateways["mercadopago"] = MercadoPagoGateway(
        baseURL: environment["WHAGO_MERCADOPAGO_API_URL"] ?? "https://api.mercadopago.com", accessToken: token,
        http: http, timeout: timeout)
    }
    if let id = environment["WHAGO_PAYPAL_CLIENT_ID"], let secret = environment["WHAGO_PAYPAL_CLIENT_SECRET"],
      !id.isEmpty, !secret.isEmpty
    {
      gateways["paypal"] = PayPalGateway(
        baseURL: environment["WHAGO_PAYPAL_API_URL"] ?? "https://api-m.paypal.com", clientID: id, clientSecret: secret,
        http: http, timeout: timeout)
    }
    self.gateways = gateways
  }

  func gateway(_ name: String) -> (any PaymentGateway)? { gateways[name] }

  /// What `gateway` says of a subscription it bills by itself; nil for a gateway without such
  /// subscriptions (Stripe's are ours to charge).
  func subscriptionStatus(gateway name: String, id: String) async throws -> GatewaySubscriptionStatus? {
    switch gateways[name] {
    case let mercadoPago as MercadoPagoGateway: try await mercadoPago.preapprovalStatus(id: id)
    case let payPal as PayPalGateway: try await payPal.subscriptionStatus(id: id)
    case nil: throw GatewayNotConfigured(detail: Self.missing(name))
    default: nil
    }
  }

  static func missing(_ name: String) -> String {
    switch name {
    case "stripe": "no Stripe credentials: set WHAGO_STRIPE_SECRET_KEY (and WHAGO_STRIPE_API_URL for a simulator)"
    case "mercadopago":
      "no Mercado Pago credentials: set WHAGO_MERCADOPAGO_ACCESS_TOKEN (and WHAGO_MERCADOPAGO_API_URL for a simulator)"
    case "paypal":
      "no PayPal credentials: set WHAGO_PAYPAL_CLIENT_ID and WHAGO_PAYPAL_CLIENT_SECRET (and WHAGO_PAYPAL_API_URL for a simulator)"
    default: "unknown gateway \(name)"
    }
  }
}

struct GatewayNotConfigured: Error, CustomStringConvertible {
  var detail: String
  var description: String { detail }
}
