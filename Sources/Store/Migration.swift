/// One versioned change to the schema: an SQL file in Migrations/, compiled into the binary so a
/// deployed `whago` carries exactly the schema it was built for.
public struct Migration: Sendable, Equatable {
  public let version: Int
  public let name: String
  public let sql: String

  init(version: Int, name: String, sql: [UInt8]) {
    self.version = version
    self.name = name
    self.sql = String(decoding: sql, as: UTF8.self)
  }

  /// Every migration, in the order they apply. Append only: an applied migration never changes.
  public static let all: [Migration] = [
    Migration(version: 1, name: "core", sql: PackageResources._001_core_sql),
    Migration(version: 2, name: "campaign_sending", sql: PackageResources._002_campaign_sending_sql),
    Migration(version: 3, name: "maturation_limits", sql: PackageResources._003_maturation_limits_sql),
    Migration(version: 4, name: "claim_cursor", sql: PackageResources._004_claim_cursor_sql),
    Migration(version: 5, name: "run_fences", sql: PackageResources._005_run_fences_sql),
    Migration(version: 6, name: "campaign_launches", sql: PackageResources._006_campaign_launches_sql),
    Migration(version: 7, name: "payment_keys", sql: PackageResources._007_payment_keys_sql),
    Migration(version: 8, name: "exchange_sending", sql: PackageResources._008_exchange_sending_sql),
    Migration(version: 9, name: "event_feed", sql: PackageResources._009_event_feed_sql),
    Migration(version: 10, name: "webhook_endpoints", sql: PackageResources._010_webhook_endpoints_sql),
    Migration(version: 11, name: "chip_reachability", sql: PackageResources._011_chip_reachability_sql),
    Migration(
      version: 12, name: "subscription_cancellation", sql: PackageResources._012_subscription_cancellation_sql),
    Migration(version: 13, name: "plan_changes", sql: PackageResources._013_plan_changes_sql),
    Migration(version: 14, name: "read_only_chips", sql: PackageResources._014_read_only_chips_sql),
    Migration(version: 15, name: "credit_purchases", sql: PackageResources._015_credit_purchases_sql),
    Migration(version: 16, name: "personal_data", sql: PackageResources._016_personal_data_sql),
    Migration(version: 17, name: "dashboard_sessions", sql: PackageResources._017_dashboard_sessions_sql),
    Migration(version: 18, name: "plan_job_caps", sql: PackageResources._018_plan_job_caps_sql),
    Migration(version: 19, name: "dashboard_actions", sql: PackageResources._019_dashboard_actions_sql),
    Migration(version: 20, name: "chip_connection", sql: PackageResources._020_chip_connection_sql),
    Migration(version: 21, name: "proxy_protocol", sql: PackageResources._021_proxy_protocol_sql),
    Migration(version: 22, name: "container_liveness", sql: PackageResources._022_container_liveness_sql),
    Migration(version: 23, name: "early_message_acks", sql: PackageResources._023_early_message_acks_sql),
    Migration(version: 24, name: "in_flight_messages", sql: PackageResources._024_in_flight_messages_sql),
    Migration(version: 25, name: "record_sent", sql: PackageResources._025_record_sent_sql),
  ]
}
