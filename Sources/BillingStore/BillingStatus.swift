import Postgres

/// Where a subscription is in the billing cycle, as `subscriptions.status` stores it.
public enum SubscriptionStatus: String, PostgresState, Sendable {
  case active
  /// A renewal is unpaid and being retried (dunning); the tenant still works.
  case pastDue = "past_due"
  /// Dunning ran out: the tenant's API and sends stop until it pays.
  case suspended
  case canceled

  /// Renewals are charged only for these.
  public var renews: Bool { self == .active || self == .pastDue }
}

/// One period's bill, as `invoices.status` stores it.
public enum InvoiceStatus: String, PostgresState, Sendable {
  case open
  case paid
  case void
  case uncollectible
}
