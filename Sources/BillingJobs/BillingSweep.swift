import BillingStore
import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Logging
import Store
import Worker

/// `billing.sweep`, on a cron schedule: enqueues one `billing.renew` per subscription due (keyed
/// by subscription, period and attempt, so overlapping sweeps add nothing), suspends accounts whose
/// dunning days passed without a payment, charges upgrades and credit packs whose charge was never
/// enqueued (and voids upgrades left unconfirmed for a day), moves those suspended for 7 days to the free plan, and
/// ends cancelled subscriptions whose period is over (the free plan too).
public struct BillingSweep: JobHandler {
  public typealias Contract = BillingSweepJob

  let store: Store
  let catalog: JobCatalog
  let clock: ScheduleClock

  public func run(_ parameters: BillingSweepJob.Parameters, context: JobContext) async throws {
    let now = try await clock.now(on: context.broker)
    let due = try await store.dueRenewals(now: now)
    let results = try await context.broker.enqueue(
      due.map {
        try BillingRenewJob.spec(
          subscriptionID: $0.subscriptionID, periodStart: $0.periodStart, attempt: $0.attempt, tenant: $0.tenant,
          catalog: catalog)
      })
    let upgrades = try await store.unchargedUpgrades(now: now)
    _ = try await context.broker.enqueue(
      upgrades.map { upgrade in
        try BillingProrateJob.spec(invoiceID: upgrade.invoiceID, tenant: upgrade.tenant, catalog: catalog)
      })
    let purchases = try await store.unchargedCardPurchases()
    _ = try await context.broker.enqueue(
      purchases.map { try CreditPurchaseJob.spec(purchaseID: $0.purchaseID, tenant: $0.tenant, catalog: catalog) })
    let expired = try await store.expireUnpaidUpgrades(now: now)
    let suspended = try await store.suspendOverdue(now: now)
    let downgraded = try await store.downgradeSuspended(now: now)
    let ended = try await store.endCanceledSubscriptions(now: now)
    context.logger.info(
      "billing swept",
      metadata: [
        "due": "\(due.count)", "enqueued": "\(results.filter { !$0.duplicate }.count)",
        "upgrades charged again": "\(upgrades.count)", "upgrades expired": "\(expired)",
        "credit purchases charged again": "\(purchases.count)",
        "suspended": "\(suspended.count)", "downgraded": "\(downgraded.count)", "cancellations ended": "\(ended.count)",
      ])
  }
}
