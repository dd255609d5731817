import BillingStore
import Foundation
import JobContracts
import JobQueue
import Logging
import Store
import Worker

/// `billing.prorate`: charges an upgrade's invoice once, as a renewal is charged (the payment row
/// and its key written before the call, the same key after a crash). Paid puts the new plan in
/// force; declined voids the invoice and the plan stays as it was; a charge the customer must
/// confirm waits for the gateway's webhook.
public struct BillingProrate: JobHandler {
  public typealias Contract = BillingProrateJob

  let store: Store
  let gateways: BillingGateways
  let clock: ScheduleClock

  public func run(_ parameters: BillingProrateJob.Parameters, context: JobContext) async throws {
    guard let charge = try await store.prepareUpgradeCharge(invoiceID: parameters.invoiceId) else {
      context.logger.info("upgrade settled already", metadata: ["invoice": "\(parameters.invoiceId)"])
      return
    }
    let result = try await GatewayCharge(store: store, gateways: gateways).run(charge, logger: context.logger)
    let state = try await store.recordCharge(charge, result: result, now: try await clock.now(on: context.broker))
    context.logger.info(
      "upgrade charged",
      metadata: [
        "invoice": "\(charge.invoiceID)", "amount_cents": "\(charge.amountCents)",
        "state": "\(state.map { "\($0)" } ?? "settled already, by its webhook")",
      ])
  }
}
