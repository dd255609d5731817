import CampaignJobs
import Foundation
import JobCatalog
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
  public struct Parameters: Decodable, Sendable {
    var subscription_id: Int64
    /// The period being paid for, ms since 1970.
    var period_start: Int64
  }
  public static let type = "billing.renew"

  let store: Store
  let gateways: BillingGateways
  let catalog: JobCatalog
  let clock: ScheduleClock

  public func run(_ parameters: Parameters, context: JobContext) async throws {
    let now = Date(
      timeIntervalSince1970: Double(clock.scheduleTime(redis: try await context.broker.redisTime())) / 1000)
    let periodStart = Date(timeIntervalSince1970: Double(parameters.period_start) / 1000)
    guard
      let charge = try await store.prepareCharge(
        subscriptionID: parameters.subscription_id, periodStart: periodStart, now: now)
    else {
      context.logger.info("nothing to charge", metadata: ["subscription": "\(parameters.subscription_id)"])
      return
    }
    let result: ChargeResult
    if charge.amountCents == 0 {
      result = .succeeded(paymentID: "free")
    } else {
      guard let gateway = gateways.gateway(charge.gateway) else {
        throw PermanentFailure(BillingGateways.missing(charge.gateway))
      }
      do {
        result =
          switch try await gateway.charge(
            ChargeRequest(
              invoiceID: charge.invoiceID, amountCents: charge.amountCents, currency: charge.currency,
              customer: charge.customer, paymentMethod: charge.paymentMethod, idempotencyKey: charge.idempotencyKey,
              description: "WHAGO invoice \(charge.invoiceID)"))
          {
          case .succeeded(let id): .succeeded(paymentID: id)
          case .declined(let id, let code, let advice, let hard):
            .declined(paymentID: id, code: code, advice: advice, hard: hard)
          case .requiresAction(let id): .requiresAction(paymentID: id)
          }
      } catch {
        switch error {
        case .transient:
          // The same payment row, the same key, on the queue's next attempt.
          throw error
        case .rejected(let message):
          result = .error(message)
        }
      }
    }
    let state = try await store.recordCharge(charge, result: result, now: now)
    context.logger.info(
      "renewal charged",
      metadata: [
        "subscription": "\(parameters.subscription_id)", "invoice": "\(charge.invoiceID)",
        "attempt": "\(charge.attempt)", "state": "\(state.map { "\($0)" } ?? "settled already, by its webhook")",
      ])
    if case .paid = state {
      // A payment that lifted a suspension resumed the campaigns it paused: start their senders
      // (campaigns.sweep would, within a minute, if this run died here).
      let (resumed, _) = try await CampaignLauncher(broker: context.broker, catalog: catalog).launchUnlaunched(
        store: store)
      if resumed > 0 { context.logger.info("campaigns resumed", metadata: ["campaigns": "\(resumed)"]) }
    }
  }
}
