/// `retention.sweep` (cron, daily): what is kept only for a while goes. Campaigns past their
/// plan's `retention_days` lose their recipients' personal data, webhook deliveries are forgotten
/// after `webhook_events_days`, tenants' events after `events_days`, and each queue's dead letters
/// follow its `dead_retention`.
public enum RetentionSweepJob: JobContract {
  public static let type = "retention.sweep"
  public struct Parameters: Codable, Sendable, Equatable {
    /// Days a webhook delivery's id is kept to drop repeats (30 unless given).
    public var webhookEventsDays: Int?
    /// Days a tenant's event (`GET /v1/events`, outbound webhooks) is kept (90 unless given).
    public var eventsDays: Int?
    public init(webhookEventsDays: Int? = nil, eventsDays: Int? = nil) {
      self.webhookEventsDays = webhookEventsDays
      self.eventsDays = eventsDays
    }
  }
}
