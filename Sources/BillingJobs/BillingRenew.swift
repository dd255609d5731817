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
      let charge = try await store.prepareCharge(
        subscriptionID: parameters.subscriptionId, periodStart: periodStart, now: now)
    else {
      context.logger.info("nothing to charge", metadata: ["subscription": "\(parameters.subscriptionId)"])
      return
    }
    let result = try await GatewayCharge(store: store, gateways: gateways).run(charge, logger: context.logger)
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
}
