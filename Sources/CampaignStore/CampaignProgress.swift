import Foundation
import Postgres
import Store

/// A campaign under way and how far it got, for operators watching the system as a whole.
public struct CampaignProgress: Codable, Sendable, Equatable {
  public var id: Int64
  public var tenant: String
  public var name: String
  /// `running` or `paused`.
  public var status: CampaignStatus
  public var pauseReason: String?
  public var startedAt: Date?
  public var total: Int
  public var pending: Int
  public var sending: Int
  public var sent: Int
  public var delivered: Int
  public var failed: Int
  public var skipped: Int

  /// Recipients that need nothing more: sent, failed or skipped.
  public var finished: Int { sent + failed + skipped }

  /// 0 to 1; a campaign without recipients has nothing left to do.
  public var fraction: Double { total == 0 ? 1 : min(1, Double(finished) / Double(total)) }
}

extension Store {
  /// Campaigns that are running or paused, oldest start first, at most `limit`. Counts come from
  /// the `campaign_progress` view; a campaign without messages yet has zeros.
  public func activeCampaigns(limit: Int = 200) async throws -> [CampaignProgress] {
    try await pool.query(
      """
      SELECT c.id, t.name AS tenant, c.name, c.status, c.pause_reason, c.started_at,
             coalesce(p.total, 0) AS total, coalesce(p.pending, 0) AS pending, coalesce(p.sending, 0) AS sending,
             coalesce(p.sent, 0) AS sent, coalesce(p.delivered, 0) AS delivered, coalesce(p.failed, 0) AS failed,
             coalesce(p.skipped, 0) AS skipped
      FROM campaigns c
      JOIN tenants t ON t.id = c.tenant_id
      LEFT JOIN campaign_progress p ON p.campaign_id = c.id
      WHERE c.status IN ('running', 'paused')
      ORDER BY c.started_at NULLS LAST, c.id
      LIMIT $1
      """, [limit]
    ).decode(CampaignProgress.self)
  }
}
