/// `billing.sweep` (cron): enqueues the renewals due, suspends and downgrades overdue accounts.
public enum BillingSweepJob: JobContract {
  public static let type = "billing.sweep"
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
}
