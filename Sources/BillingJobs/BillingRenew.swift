import BillingStore
import CampaignJobs
import CampaignStore
import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Logging
import Payments
import Store
import Worker

/// `billing.renew`: charges one subscription for one period. The invoice is created once; the
/// payment row (pending, with the idempotency key the gateway sees) is written before the call.
/// A timeout or a crash leaves it pending, and the retry charges with the same key, so the gateway
/// replays its first answer instead of charging again; only a new dunning attempt gets a new key.
public struct BillingRenew: JobHandler {
  public typealias Contract = BillingRenewJob

  let store: Store
  let gateways: BillingGateways
  let catalog: JobCatalog
  let clock: ScheduleClock

  public func run(_ parameters: BillingRenewJob.Parameters, context: JobContext) async throws {
    let now = try await clock.now(on: context.broker)
    let periodStart = Date(timeIntervalSince1970: Double(parameters.periodStart) / 1000)
    guard
      var charge = try await store.prepareCharge(
        subscriptionID: parameters.subscriptionId, periodStart: periodStart, now: now)
    else {
      context.logger.info("nothing to charge", metadata: ["subscription": "\(parameters.subscriptionId)"])
      return
    }
    var result: ChargeResult?
    if charge.amountCents == 0 {
      result = .succeeded(paymentID: "free")
    } else {
      guard let gateway = gateways.gateway(charge.gateway) else {
        throw PermanentFailure(BillingGateways.missing(charge.gateway))
      }
      do {
        if let use = charge.keyUse, use.needsLookUp(window: gateways.keyWindow) {
          // The gateway may have forgotten the key, or keeps replaying a non-outcome under it:
          // its records say whether the charge happened. Its search can lag a new charge, so ask
          // only once the key has been idle a while.
          let settle = min(gateways.keyWindow, 120)
          guard use.idle >= settle else {
            throw PaymentError.transient(
              "the charge under \(charge.idempotencyKey) is looked up \(Int(settle)) s after its last use")
          }
          if let found = try await gateway.lookUp(request(charge)) {
            context.logger.info(
              "charge found at the gateway",
              metadata: ["invoice": "\(charge.invoiceID)", "attempt": "\(charge.attempt)"])
            result = ChargeResult(found)
          } else {
            charge = try await store.renewKey(charge)
            context.logger.info(
              "no charge under the old key: charging under a new one",
              metadata: ["invoice": "\(charge.invoiceID)", "attempt": "\(charge.attempt)"])
          }
        }
        if result == nil {
          try await store.noteKeySent(charge)
          result = ChargeResult(try await gateway.charge(request(charge)))
        }
      } catch let error as PaymentError {
        switch error {
        case .transient:
          // The same payment row, the same key, on the queue's next attempt.
          throw error
        case .uncertain:
          try await store.noteKeyUnsettled(charge)
          throw error
        case .rejected(let message):
          result = .error(message)
        }
      }
    }
    guard let result else { return }
    let state = try await store.recordCharge(charge, result: result, now: now)
    context.logger.info(
      "renewal charged",
      metadata: [
        "subscription": "\(parameters.subscriptionId)", "invoice": "\(charge.invoiceID)",
        "attempt": "\(charge.attempt)", "state": "\(state.map { "\($0)" } ?? "settled already, by its webhook")",
      ])
    if case .paid(_, let resumed) = state {
      // A payment that lifted a suspension resumed the campaigns it paused: start their senders
      // (campaigns.sweep would, within a minute, if this run died here).
      try await CampaignLauncher(broker: context.broker, catalog: catalog).launch(resumed.map(\.launch))
      if !resumed.isEmpty { context.logger.info("campaigns resumed", metadata: ["campaigns": "\(resumed.count)"]) }
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
