import BillingStore
import Foundation
import JobContracts
import Logging
import Payments
import Store

/// One prepared charge taken to its gateway, for renewals and upgrades alike: the key is looked
/// up first when the gateway may have forgotten it (or keeps replaying a non-outcome), renewed when
/// the gateway has no charge under it, and noted as sent just before the call. Returns the outcome
/// to record; throws for the queue to retry with the same payment row and key.
struct GatewayCharge {
  let store: Store
  let gateways: BillingGateways

  func run(_ prepared: ChargeAttempt, logger: Logger) async throws -> ChargeResult {
    var charge = prepared
    if charge.amountCents == 0 { return .succeeded(paymentID: "free") }
    guard let gateway = gateways.gateway(charge.gateway) else {
      throw PermanentFailure(BillingGateways.missing(charge.gateway))
    }
    do {
      if let use = charge.keyUse, use.needsLookUp(window: gateways.keyWindow) {
        // The gateway's search can lag a new charge: ask only once the key has been idle a while.
        let settle = min(gateways.keyWindow, 120)
        guard use.idle >= settle else {
          throw PaymentError.transient(
            "the charge under \(charge.idempotencyKey) is looked up \(Int(settle)) s after its last use")
        }
        if let found = try await gateway.lookUp(request(charge)) {
          logger.info(
            "charge found at the gateway", metadata: ["invoice": "\(charge.invoiceID)", "attempt": "\(charge.attempt)"])
          return ChargeResult(found)
        }
        charge = try await store.renewKey(charge)
        logger.info(
          "no charge under the old key: charging under a new one",
          metadata: ["invoice": "\(charge.invoiceID)", "attempt": "\(charge.attempt)"])
      }
      try await store.noteKeySent(charge)
      return ChargeResult(try await gateway.charge(request(charge)))
    } catch let error as PaymentError {
      switch error {
      case .transient:
        // The same payment row, the same key, on the queue's next attempt.
        throw error
      case .uncertain:
        try await store.noteKeyUnsettled(charge)
        throw error
      case .rejected(let message):
        return .error(message)
      }
    }
  }

  func request(_ charge: ChargeAttempt) -> ChargeRequest {
    ChargeRequest(
      invoiceID: charge.invoiceID, amountCents: charge.amountCents, currency: charge.currency,
      customer: charge.customer, paymentMethod: charge.paymentMethod, idempotencyKey: charge.idempotencyKey,
      description: "WHAGO invoice \(charge.invoiceID)")
  }
}

extension ChargeResult {
  init(_ outcome: ChargeOutcome) {
    self =
      switch outcome {
      case .succeeded(let id): .succeeded(paymentID: id)
      case .declined(let id, let code, let advice, let hard):
        .declined(paymentID: id, code: code, advice: advice, hard: hard)
      case .requiresAction(let id): .requiresAction(paymentID: id)
      }
  }
}
