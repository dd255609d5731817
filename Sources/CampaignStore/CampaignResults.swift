import Foundation
import Postgres
import Store
import Wire

/// One recipient's outcome, as a tenant reads its campaign's results.
public struct CampaignMessage: Codable, Sendable, Equatable {
  public var id: Int64
  /// Null once the plan's retention or the number's owner (LGPD) removed it.
  @ExplicitNull public var phone: String?
  public var state: MessageState
  public var attempts: Int
  @ExplicitNull public var chipId: Int64?
  /// The last part of WAHA's id, which its acks and the tenant's WAHA logs carry.
  @ExplicitNull public var wahaMessageId: String?
  /// Why it failed or was skipped, in words ("opted out", "number not on WhatsApp", WAHA's refusal).
  @ExplicitNull public var reason: String?
  public var createdAt: Date
  @ExplicitNull public var sendingAt: Date?
  @ExplicitNull public var sentAt: Date?
  @ExplicitNull public var deliveredAt: Date?
  @ExplicitNull public var readAt: Date?
  @ExplicitNull public var failedAt: Date?
}

/// Which of a tenant's campaigns a list returns: any of `statuses` (all when empty), created in
/// [`createdFrom`, `createdBefore`).
public struct CampaignFilter: Sendable, Equatable {
  public var statuses: [CampaignStatus]
  public var createdFrom: Date?
  public var createdBefore: Date?

  public init(statuses: [CampaignStatus] = [], createdFrom: Date? = nil, createdBefore: Date? = nil) {
    self.statuses = statuses
    self.createdFrom = createdFrom
    self.createdBefore = createdBefore
  }
}

extension CampaignCounts {
  /// The columns of `campaign_progress`, one per count.
  static let columns = ["total", "pending", "sending", "sent", "delivered", "read", "failed", "skipped"]

  /// The per-state counts of `row`, as `campaign_progress` names them.
  init(row: PostgresRow) throws {
    self.init()
    total = try row.decode("total")
    pending = try row.decode("pending")
    sending = try row.decode("sending")
    sent = try row.decode("sent")
    delivered = try row.decode("delivered")
    read = try row.decode("read")
    failed = try row.decode("failed")
    skipped = try row.decode("skipped")
  }
}

extension Store {
  static let messageColumns =
    "id, phone, state, attempts, chip_id, waha_message_id, error AS reason, created_at, sending_at, sent_at, "
    + "delivered_at, read_at, failed_at"

  /// The tenant's campaigns in id order after `cursor`, each with its chips and counts. The counts come from
  /// `campaign_progress` restricted to each campaign (one index range of
  /// `campaign_messages_state_idx`), so a page costs its own campaigns' rows, not the tenant's history.
  public func campaigns(
    tenantID: TenantID, filter: CampaignFilter, after cursor: Int64, limit: Int
  ) async throws -> [(CampaignRecord, [Int64], CampaignCounts)] {
    let statuses = "{" + filter.statuses.map(\.rawValue).joined(separator: ",") + "}"
    return try await pool.withConnection { connection in
      let page = try connection.query(
        """
        SELECT \(Self.campaignColumns),
          \(CampaignCounts.columns.map { "coalesce(p.\($0), 0) AS \($0)" }.joined(separator: ", "))
        FROM campaigns c
        LEFT JOIN LATERAL (SELECT * FROM campaign_progress WHERE campaign_id = c.id) p ON true
        WHERE c.tenant_id = $1 AND c.id > $2
          AND (cardinality($3::text[]) = 0 OR c.status = ANY($3::text[]))
          AND ($4::timestamptz IS NULL OR c.created_at >= $4)
          AND ($5::timestamptz IS NULL OR c.created_at < $5)
        ORDER BY c.id LIMIT $6
        """, [tenantID, cursor, statuses, filter.createdFrom, filter.createdBefore, limit]
      ).rows.map { (try $0.decode(CampaignRecord.self), try CampaignCounts(row: $0)) }
      var chips: [Int64: [Int64]] = [:]
      for row in try connection.query(
        "SELECT campaign_id, chip_id FROM campaign_chips WHERE campaign_id = ANY($1::bigint[]) ORDER BY chip_id",
        ["{" + page.map { String($0.0.id) }.joined(separator: ",") + "}"]
      ).rows {
        chips[try row.decode("campaign_id"), default: []].append(try row.decode("chip_id"))
      }
      return page.map { ($0.0, chips[$0.0.id] ?? [], $0.1) }
    }
  }

  /// One page of a campaign's recipients in id order after `cursor`, those in any of `states`
  /// (all when empty); nil when the tenant has no such campaign.
  public func campaignMessages(
    tenantID: TenantID, campaignID: Int64, states: [MessageState] = [], after cursor: Int64, limit: Int
  ) async throws -> [CampaignMessage]? {
    try await pool.withConnection { connection in
      guard try Self.ownsCampaign(connection, tenantID: tenantID, campaignID: campaignID) else { return nil }
      return try Self.messages(connection, campaignID: campaignID, states: states, after: cursor, limit: limit)
    }
  }

  private static func ownsCampaign(_ connection: PostgresConnection, tenantID: TenantID, campaignID: Int64) throws
    -> Bool
  {
    try connection.query("SELECT 1 FROM campaigns WHERE id = $1 AND tenant_id = $2", [campaignID, tenantID]).count > 0
  }

  private static func messages(
    _ connection: PostgresConnection, campaignID: Int64, states: [MessageState], after cursor: Int64, limit: Int
  ) throws -> [CampaignMessage] {
    try connection.query(
      """
      SELECT \(messageColumns) FROM campaign_messages
      WHERE campaign_id = $1 AND id > $2 AND (cardinality($3::text[]) = 0 OR state = ANY($3::text[]))
      ORDER BY id LIMIT $4
      """, [campaignID, cursor, "{" + states.map(\.rawValue).joined(separator: ",") + "}", limit]
    ).decode(CampaignMessage.self)
  }
}
