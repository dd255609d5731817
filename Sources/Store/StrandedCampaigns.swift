import Postgres
import Wire

/// Campaigns whose chips stop or start being able to send: a campaign with no writable WORKING
/// chip left pauses (`no_working_chips`), and resumes once one of its chips can send again (its
/// sender is launched by `campaigns.sweep` within a minute). A chip's status change and a plan's
/// chip limit both come here.
extension Store {
  /// Running campaigns sending through one of `chips` with no writable WORKING chip left: paused,
  /// each with `campaign.paused` (`data` added to the reason).
  static func pauseCampaignsWithoutWorkingChips(
    _ connection: PostgresConnection, tenantID: TenantID, chips: [Int64], data: [String: JSONValue] = [:]
  ) throws {
    let paused = try connection.query(
      """
      UPDATE campaigns c SET status = 'paused', pause_reason = 'no_working_chips'
      WHERE c.tenant_id = $1 AND c.status = 'running'
        AND c.id IN (SELECT campaign_id FROM campaign_chips WHERE chip_id = ANY($2::bigint[]))
        AND NOT EXISTS (
          SELECT 1 FROM campaign_chips cc JOIN chips h ON h.id = cc.chip_id
          WHERE cc.campaign_id = c.id AND h.status = 'WORKING' AND h.read_only_since IS NULL)
      RETURNING c.id
      """, [tenantID, idArray(chips)])
    for campaign in paused.rows {
      try recordEvent(
        connection, tenantID: tenantID, .campaignPaused, subject: .campaign(try campaign.decode("id")),
        data.merging(["reason": "no_working_chips"]) { _, reason in reason })
    }
  }

  /// Campaigns paused for `no_working_chips` sending through one of `chips` that have a writable
  /// WORKING chip again: running, each with `campaign.resumed`.
  static func resumeCampaignsWithWorkingChips(
    _ connection: PostgresConnection, tenantID: TenantID, chips: [Int64], data: [String: JSONValue] = [:]
  ) throws {
    let resumed = try connection.query(
      """
      UPDATE campaigns c SET status = 'running', pause_reason = NULL, generation = generation + 1
      WHERE c.tenant_id = $1 AND c.status = 'paused' AND c.pause_reason = 'no_working_chips'
        AND c.id IN (SELECT campaign_id FROM campaign_chips WHERE chip_id = ANY($2::bigint[]))
        AND EXISTS (
          SELECT 1 FROM campaign_chips cc JOIN chips h ON h.id = cc.chip_id
          WHERE cc.campaign_id = c.id AND h.status = 'WORKING' AND h.read_only_since IS NULL)
      RETURNING c.id
      """, [tenantID, idArray(chips)])
    for campaign in resumed.rows {
      try recordEvent(
        connection, tenantID: tenantID, .campaignResumed, subject: .campaign(try campaign.decode("id")),
        data.merging(["reason": "no_working_chips"]) { _, reason in reason })
    }
  }

  private static func idArray(_ ids: [Int64]) -> String { "{" + ids.map(String.init).joined(separator: ",") + "}" }
}
