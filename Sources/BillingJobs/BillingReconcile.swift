import BillingStore
import Foundation
import JobContracts
import Logging
import Payments
import Store
import Worker

/// `billing.reconcile`, daily: every live subscription a gateway bills by itself (a Mercado Pago
/// preapproval, a PayPal subscription) is looked up at its gateway, and one the gateway has ended
/// is cancelled at its period's end here, as its webhook would have done. A webhook lost for good
/// costs at most a day. Gateways that cannot be asked leave their subscriptions as they are and
/// fail the run, which the queue retries; the others are settled meanwhile. An id the gateway does
/// not know (404) is logged for an operator and skipped: retrying would not change its answer.
public struct BillingReconcile: JobHandler {
  public typealias Contract = BillingReconcileJob

  let store: Store
  let gateways: BillingGateways

  public func run(_ parameters: BillingReconcileJob.Parameters, context: JobContext) async throws {
    let subscriptions = try await store.gatewayBilledSubscriptions()
    var ended = 0
    var unknown = 0
    var failures: [String] = []
    for subscription in subscriptions {
      do {
        let answer = try await gateways.subscriptionStatus(
          gateway: subscription.gateway, id: subscription.gatewaySubscriptionID)
        if answer == .unknown {
          unknown += 1
          context.logger.warning(
            "the gateway has no subscription by the id held here; left as it is: check the id with the gateway",
            metadata: [
              "tenant": "\(subscription.tenant)", "gateway": "\(subscription.gateway)",
              "gateway_subscription_id": "\(subscription.gatewaySubscriptionID)",
            ])
          continue
        }
        guard case .ended(let status) = answer else { continue }
        let outcome = try await store.endGatewaySubscription(
          gateway: subscription.gateway, gatewaySubscriptionID: subscription.gatewaySubscriptionID, status: status,
          delivery: nil)
        if outcome == .applied {
          ended += 1
          context.logger.notice(
            "subscription ended at its gateway; cancelled at the period's end",
            metadata: [
              "tenant": "\(subscription.tenant)", "gateway": "\(subscription.gateway)", "status": "\(status)",
            ])
        }
      } catch {
        failures.append("\(subscription.gateway) \(subscription.gatewaySubscriptionID): \(error)")
      }
    }
    context.logger.info(
      "gateway subscriptions reconciled",
      metadata: [
        "checked": "\(subscriptions.count)", "ended": "\(ended)", "unknown": "\(unknown)",
        "failed": "\(failures.count)",
      ])
    if !failures.isEmpty {
      throw ReconcileIncomplete(failures: failures)
    }
  }
}

struct ReconcileIncomplete: Error, CustomStringConvertible {
  var failures: [String]
  var description: String {
    "\(failures.count) subscription(s) could not be asked at their gateway (retried): "
      + failures.prefix(5).joined(separator: "; ")
  }
}
