import Foundation
import JobCatalog
import JobQueue

/// `billing.sweep` (cron): enqueues the renewals due, suspends and downgrades overdue accounts.
public enum BillingSweepJob: JobContract {
  public static let type = "billing.sweep"
  public typealias Parameters = NoParameters
}

/// `billing.reconcile` (cron, daily): asks the gateways about the subscriptions they bill by
/// themselves, in case the webhook that said one ended was lost.
public enum BillingReconcileJob: JobContract {
  public static let type = "billing.reconcile"
  public typealias Parameters = NoParameters
}

/// `billing.renew`: charges one subscription for one period.
public enum BillingRenewJob: JobContract {
  public static let type = "billing.renew"
  public struct Parameters: Codable, Sendable, Equatable {
    public var subscriptionId: Int64
    /// The period being paid for, ms since 1970.
    public var periodStart: Int64
    public init(subscriptionId: Int64, periodStart: Int64) {
      self.subscriptionId = subscriptionId
      self.periodStart = periodStart
    }
  }

  /// The job's unique key: one run per subscription, period and attempt, whoever enqueues it
  /// (the sweep, or a card change that retries at once).
  public static func key(subscriptionID: Int64, periodStart: Int64, attempt: Int) -> String {
    "billing:renew:\(subscriptionID):\(periodStart):\(attempt)"
  }

  /// The renewal of `attempt` for the period starting at `periodStart`, under its unique key: what
  /// the sweep and a card change both enqueue, so the second adds nothing.
  public static func spec(
    subscriptionID: Int64, periodStart: Date, attempt: Int, tenant: String, catalog: JobCatalog
  ) throws -> JobSpec {
    let period = Int64((periodStart.timeIntervalSince1970 * 1000).rounded())
    return try spec(
      .init(subscriptionId: subscriptionID, periodStart: period), catalog: catalog,
      key: key(subscriptionID: subscriptionID, periodStart: period, attempt: attempt), tenant: tenant)
  }
}

/// `billing.prorate`: charges an upgrade's pro-rata invoice; its payment puts the new plan in force.
public enum BillingProrateJob: JobContract {
  public static let type = "billing.prorate"
  public struct Parameters: Codable, Sendable, Equatable {
    public var invoiceId: Int64
    public init(invoiceId: Int64) { self.invoiceId = invoiceId }
  }

  /// The job's unique key: one charge per invoice, however often it is asked for.
  public static func key(invoiceID: Int64) -> String { "billing:prorate:\(invoiceID)" }

  /// The charge of upgrade invoice `invoiceID`, under its unique key (the route, the CLI and the
  /// sweep all enqueue this one).
  public static func spec(invoiceID: Int64, tenant: String, catalog: JobCatalog) throws -> JobSpec {
    try spec(.init(invoiceId: invoiceID), catalog: catalog, key: key(invoiceID: invoiceID), tenant: tenant)
  }
}

/// `credits.purchase`: charges a credit pack bought by card, once, under the purchase's own key;
/// paid grants its credits.
public enum CreditPurchaseJob: JobContract {
  public static let type = "credits.purchase"
  public struct Parameters: Codable, Sendable, Equatable {
    public var purchaseId: Int64
    public init(purchaseId: Int64) { self.purchaseId = purchaseId }
  }

  /// The job's unique key: one charge per purchase, however often the request is repeated.
  public static func key(purchaseID: Int64) -> String { "credits:purchase:\(purchaseID)" }

  public static func spec(purchaseID: Int64, tenant: String, catalog: JobCatalog) throws -> JobSpec {
    try spec(.init(purchaseId: purchaseID), catalog: catalog, key: key(purchaseID: purchaseID), tenant: tenant)
  }
}
