import Foundation
import OutboundHTTP

/// Where a subscription that the gateway bills by itself stands at the gateway: the daily
/// reconciliation asks, in case the webhook that said it ended was lost.
public enum GatewaySubscriptionStatus: Sendable, Equatable {
  /// It charges as agreed (or waits for the customer's approval).
  case live(String)
  /// It charges nothing more: cancelled, paused, suspended or expired (the gateway's word).
  case ended(String)
  /// The gateway has no subscription by this id (404): asking again will not change that, so an
  /// operator has to look at the id we hold, not the queue at the gateway.
  case unknown

  /// Mercado Pago's preapproval statuses: `pending`, `authorized`, `paused`, `cancelled`.
  public static func mercadoPago(_ status: String) -> Self {
    ["cancelled", "paused"].contains(status) ? .ended(status) : .live(status)
  }

  /// PayPal's subscription statuses: `APPROVAL_PENDING`, `APPROVED`, `ACTIVE`, `SUSPENDED`,
  /// `CANCELLED`, `EXPIRED`.
  public static func payPal(_ status: String) -> Self {
    ["CANCELLED", "SUSPENDED", "EXPIRED"].contains(status) ? .ended(status) : .live(status)
  }
}

struct SubscriptionStatusAnswer: Decodable {
  var status: String
}

extension MercadoPagoGateway {
  /// `GET /preapproval/{id}`: the subscription's status at Mercado Pago.
  public func preapprovalStatus(id: String) async throws(PaymentError) -> GatewaySubscriptionStatus {
    let safe = id.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    let outbound = transport.request(
      "GET", "/preapproval/\(safe)",
      headers: [("Authorization", "Bearer \(accessToken)"), ("Accept", "application/json")], body: nil)
    let response = try await transport.send(outbound)
    if response.status == 404 { return .unknown }
    guard (200..<300).contains(response.status) else {
      throw transport.failure(response, outbound, detail: "looking up preapproval \(safe)")
    }
    guard let answer = GatewayJSON.decode(SubscriptionStatusAnswer.self, response) else {
      throw .transient("Mercado Pago answered preapproval \(safe) with an unexpected body")
    }
    return .mercadoPago(answer.status)
  }
}

extension PayPalGateway {
  /// `GET /v1/billing/subscriptions/{id}`: the subscription's status at PayPal.
  public func subscriptionStatus(id: String) async throws(PaymentError) -> GatewaySubscriptionStatus {
    let safe = id.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    let (outbound, response) = try await transport.sendAuthorized(accessToken) { token in
      transport.request(
        "GET", "/v1/billing/subscriptions/\(safe)",
        headers: [("Authorization", "Bearer \(token)"), ("Accept", "application/json")], body: nil)
    }
    if response.status == 404 { return .unknown }
    guard (200..<300).contains(response.status) else {
      throw transport.failure(response, outbound, detail: "looking up subscription \(safe)")
    }
    guard let answer = GatewayJSON.decode(SubscriptionStatusAnswer.self, response) else {
      throw .transient("PayPal answered subscription \(safe) with an unexpected body")
    }
    return .payPal(answer.status)
  }
}
