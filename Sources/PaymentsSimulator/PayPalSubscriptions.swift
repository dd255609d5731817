import Foundation
import Hummingbird
import Synchronization
import Wire

/// PayPal subscriptions as the reconciliation reads them: `GET /v1/billing/subscriptions/{id}`
/// (a Bearer token) answers `{id, status, status_update_time}` in PayPal's shape, or 404
/// RESOURCE_NOT_FOUND. Tests set a subscription's status with
/// `POST /_sim/paypal/subscriptions/{id} {"status": "ACTIVE"|"SUSPENDED"|"CANCELLED"|"EXPIRED"}`;
/// the webhook PayPal would send is signed separately (`/_sim/paypal/sign`).
final class PayPalSubscriptions: Sendable {
  private let statuses = Mutex<[String: (status: String, since: Date)]>([:])
  let tokens: PayPalTokens

  init(tokens: PayPalTokens) { self.tokens = tokens }

  static let statuses: Set = ["APPROVAL_PENDING", "APPROVED", "ACTIVE", "SUSPENDED", "CANCELLED", "EXPIRED"]

  func register(on router: Router<some RequestContext>) {
    router.get("v1/billing/subscriptions/:id") { request, context in
      guard self.tokens.isValid(Incoming.bearer(request)) else { throw PayPalRoutes.authenticationFailure }
      let id = context.parameters.get("id") ?? ""
      guard let found = self.statuses.withLock({ $0[id] }) else {
        throw GatewayReply(
          code: 404,
          body: [
            "name": "RESOURCE_NOT_FOUND", "message": "The specified resource does not exist.",
            "details": [["issue": "INVALID_RESOURCE_ID", "description": "Requested resource ID was not found."]],
          ])
      }
      return GatewayReply(
        code: 200,
        body: [
          "id": .string(id), "status": .string(found.status),
          "status_update_time": .string(found.since.ISO8601Format()),
        ]
      ).response()
    }
    router.post("_sim/paypal/subscriptions/:id") { request, context in
      let body = try await Incoming.object(request, invalid: ControlRoutes.invalidOne)
      guard let status = body["status"]?.string, Self.statuses.contains(status) else {
        throw ControlRoutes.invalidOne("status must be one of \(Self.statuses.sorted().joined(separator: ", "))")
      }
      let id = context.parameters.get("id") ?? ""
      self.statuses.withLock { $0[id] = (status, Date()) }
      return GatewayReply(code: 200, body: ["id": .string(id), "status": .string(status)]).response()
    }
  }
}
