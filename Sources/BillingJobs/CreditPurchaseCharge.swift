import BillingStore
import CampaignJobs
import Foundation
import JobCatalog
import JobContracts
import Logging
import Payments
import Store
import Worker

/// `credits.purchase`: a credit pack bought by card is charged once, under the purchase's own key
/// (written before the request, the same on every retry, so a lost answer is asked again and
/// never charged again). Paid grants the pack's credits and resumes the campaigns that ran out;
/// declined fails the purchase (`credits.purchase_failed`).
public struct CreditPurchaseCharge: JobHandler {
  public typealias Contract = CreditPurchaseJob

  let store: Store
  let gateways: BillingGateways
  let catalog: JobCatalog

  public func run(_ parameters: CreditPurchaseJob.Parameters, context: JobContext) async throws {
    guard let charge = try await store.pendingCardCharge(purchaseID: parameters.purchaseId) else {
      context.logger.info("credit purchase settled already", metadata: ["purchase": "\(parameters.purchaseId)"])
      return
    }
    guard let gateway = gateways.gateway(charge.gateway) else {
      throw PermanentFailure(BillingGateways.missing(charge.gateway))
    }
    let result: ChargeResult
    do {
      result = ChargeResult(
        try await gateway.charge(
          ChargeRequest(
            invoiceID: charge.purchaseID, amountCents: charge.amountCents, currency: charge.currency,
            customer: charge.customer, paymentMethod: charge.paymentMethod, idempotencyKey: charge.idempotencyKey,
            description: "WHAGO credit pack \(charge.pack)", reference: "purchase-\(charge.purchaseID)")))
    } catch {
      // Transient or uncertain: the queue retries under the same key, which answers the same charge.
      guard case .rejected(let message) = error else { throw error }
      result = .error(message)
    }
    let resumed = try await store.settleCreditPurchase(purchaseID: charge.purchaseID, result: result)
    if !resumed.isEmpty {
      try await CampaignLauncher(broker: context.broker, catalog: catalog).launch(resumed.map(\.launch))
    }
    context.logger.info(
      "credit pack charged",
      metadata: [
        "purchase": "\(charge.purchaseID)", "tenant": "\(charge.tenant)", "pack": "\(charge.pack)",
        "amount_cents": "\(charge.amountCents)", "outcome": "\(result)",
      ])
  }
}
