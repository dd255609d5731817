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
}
