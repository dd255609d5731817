import Foundation
import Synchronization
import Wire

/// The payments and subscriptions (preapprovals) the simulated Mercado Pago holds, so
/// `GET /v1/payments/{id}` can answer what a charge or a subscription made.
final class MercadoPagoBook: Sendable {
  struct Preapproval: Sendable {
    var id: String
    var payerEmail: String
    var amountCents: Int
    var json: JSONValue
  }

  private struct State {
    var payments: [Int64: JSONValue] = [:]
    var preapprovals: [String: Preapproval] = [:]
    var nextPaymentID: Int64 = 1_320_000_000 + Int64.random(in: 0..<1_000_000) * 100
  }

  private let state = Mutex(State())

  /// A new payment id, as Mercado Pago's: a large integer.
  func nextPaymentID() -> Int64 {
    state.withLock {
      $0.nextPaymentID += 1
      return $0.nextPaymentID
    }
  }

  func store(payment: JSONValue, id: Int64) { state.withLock { $0.payments[id] = payment } }
  func payment(_ id: Int64) -> JSONValue? { state.withLock { $0.payments[id] } }

  /// The payments made for `reference` (`external_reference`), newest first.
  func payments(reference: String) -> [JSONValue] {
    state.withLock { state in
      state.payments.sorted { $0.key > $1.key }.map(\.value).filter { $0["external_reference"]?.string == reference }
    }
  }

  func store(_ preapproval: Preapproval) { state.withLock { $0.preapprovals[preapproval.id] = preapproval } }
  func preapproval(_ id: String) -> Preapproval? { state.withLock { $0.preapprovals[id] } }
}

/// Mercado Pago's error envelope: `{"message", "error", "status", "cause": [...]}`.
enum MercadoPagoErrors {
  static func error(_ status: Int, _ error: String, _ message: String) -> GatewayReply {
    GatewayReply(
      code: status,
      body: [
        "message": .string(message), "error": .string(error), "status": .int(Int64(status)),
        "cause": [["code": .int(Int64(status)), "description": .string(message)]],
      ])
  }

  static let unauthorized = error(401, "unauthorized", "invalid access token")

  /// How Mercado Pago answers a reused or busy X-Idempotency-Key.
  static let keys = ChargeFlow.KeyErrors(
    mismatch: { _ in badRequest("idempotency key reused") },
    inProgress: { _ in error(409, "conflict", "a request with this X-Idempotency-Key is still being processed") })

  static func badRequest(_ message: String) -> GatewayReply { error(400, "bad_request", message) }
}
