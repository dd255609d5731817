import Postgres

/// Where a campaign is in its life, as `campaigns.status` stores it.
public enum CampaignStatus: String, PostgresState, Sendable {
  case draft
  /// Started with a `start_at` still ahead.
  case scheduled
  case running
  /// Paused by its tenant or for a reason (`pause_reason`: manual, no_credits, tenant_suspended,
  /// no_working_chips).
  case paused
  case completed
  case cancelled

  /// Completed and cancelled campaigns take no more changes.
  public var isFinished: Bool { self == .completed || self == .cancelled }
}
