import Foundation
import Postgres
import Store

/// What one pass of the retention sweep removed.
public struct RetentionOutcome: Sendable, Equatable {
  /// Campaigns whose recipients' data was removed.
  public var campaigns = 0
  /// Their messages, now without number, chat id, variables or text.
  public var messages = 0
  /// Gateway and WAHA deliveries forgotten after their deduplication window.
  public var webhookEvents = 0
  /// Tenants' events (the feed and its webhooks) past their retention.
  public var events = 0
}

extension Store {
  /// Removes the personal data of campaigns that finished longer ago than their tenant's plan
  /// keeps it (`retention_days`; null keeps it for good): each message keeps its state and times,
  /// so counts and reports still add up, and loses its number, chat id, variables and sent text.
  /// Campaigns go `batch` at a time, each batch one transaction, until none is left; the age is
  /// measured on PostgreSQL's clock.
  public func removeAgedPersonalData(batch: Int = 20) async throws -> RetentionOutcome {
    var outcome = RetentionOutcome()
    while true {
      let rows = try await pool.transaction { connection in
        try connection.query(
          """
          WITH aged AS (
            SELECT c.id FROM campaigns c
            JOIN tenants t ON t.id = c.tenant_id JOIN plans p ON p.name = t.plan
            WHERE c.status IN ('completed', 'cancelled') AND c.personal_data_removed_at IS NULL
              AND p.retention_days IS NOT NULL
              AND coalesce(c.completed_at, c.cancelled_at) < now() - make_interval(days => p.retention_days)
            ORDER BY c.id LIMIT $1 FOR UPDATE OF c SKIP LOCKED
          ), scrubbed AS (
            UPDATE campaign_messages m SET \(PersonalData.clearedFromMessage)
            FROM aged WHERE m.campaign_id = aged.id
            RETURNING m.campaign_id
          ), marked AS (
            UPDATE campaigns c SET personal_data_removed_at = now() FROM aged WHERE c.id = aged.id RETURNING c.id
          )
          SELECT (SELECT count(*) FROM marked)::int AS campaigns, (SELECT count(*) FROM scrubbed)::int AS messages
          """, [batch])
      }
      let campaigns: Int = try rows.first?.decode("campaigns") ?? 0
      let messages: Int = try rows.first?.decode("messages") ?? 0
      outcome.campaigns += campaigns
      outcome.messages += messages
      if campaigns < batch { return outcome }
    }
  }

  /// Deletes tenants' events older than `days`: long past any webhook delivery's retries (about
  /// three days) and any feed reader's catch-up. Deleted 5,000 at a time.
  public func pruneEvents(olderThanDays days: Int) async throws -> Int {
    var total = 0
    while true {
      let deleted = try await pool.query(
        """
        DELETE FROM events WHERE id IN (
          SELECT id FROM events WHERE created_at < now() - make_interval(days => $1) ORDER BY id LIMIT 5000)
        """, [days]
      ).affected
      total += deleted
      if deleted < 5000 { return total }
    }
  }

  /// Forgets webhook deliveries (their ids, kept to drop repeats) received more than `days` ago:
  /// past the gateways' retry windows (Stripe, PayPal and Mercado Pago retry for about three days)
  /// a repeat cannot come. Deleted 5,000 at a time. WAHA acks still waiting for a send that was
  /// never recorded (the message was not a campaign's) go with them.
  public func pruneWebhookEvents(olderThanDays days: Int) async throws -> Int {
    try await pool.query(
      "DELETE FROM early_message_acks WHERE received_at < now() - make_interval(days => $1)", [days])
    var total = 0
    while true {
      let deleted = try await pool.query(
        """
        DELETE FROM webhook_events WHERE id IN (
          SELECT id FROM webhook_events WHERE received_at < now() - make_interval(days => $1) LIMIT 5000)
        """, [days]
      ).affected
      total += deleted
      if deleted < 5000 { return total }
    }
  }
}
