import Foundation
import Postgres
import Store

/// What erasing a departed tenant's personal data did. What the law requires kept (invoices,
/// payments, subscriptions, the credit ledger) and what is not personal (campaign names, counts
/// and times, chips' sessions) stays.
public struct TenantErasure: Codable, Sendable, Equatable {
  public var tenant: String
  public var campaignsCancelled: Int
  public var messagesErased: Int
  /// Messages being sent at this moment, left to finish: run the erasure again in a minute.
  public var messagesInFlight: Int
  public var optOutsRemoved: Int
  public var eventsScrubbed: Int
  public var apiKeysRevoked: Int
  public var webhookEndpointsDeleted: Int
  public var chipKeysRemoved: Int
}

public enum TenantErasureError: Error, Sendable, CustomStringConvertible {
  case unknownTenant(String)

  public var description: String {
    switch self {
    case .unknownTenant(let name): "no tenant '\(name.prefix(64))'; list them with `whago tenant list`"
    }
  }
}

extension Store {
  /// Erases a departed tenant's personal data in one transaction: its campaigns stop, every
  /// recipient's number, chat id, variables and text go, its opt-out and erasure lists go (it
  /// sends nothing more), event payloads lose the numbers they name, its API keys are revoked,
  /// its webhook endpoints deleted and its chips' WAHA keys removed. Safe to repeat; a message
  /// being sent at that moment is left to finish and reported, for a second run.
  public func eraseTenant(named name: String) async throws -> TenantErasure {
    try await pool.transaction { connection in
      guard
        let id: Int64 = try connection.query("SELECT id FROM tenants WHERE name = $1 FOR UPDATE", [name]).rows.first?
          .decode("id")
      else { throw TenantErasureError.unknownTenant(name) }
      let cancelled = try connection.query(
        """
        UPDATE campaigns SET status = 'cancelled', cancelled_at = now(), pause_reason = NULL
        WHERE tenant_id = $1 AND status IN ('draft', 'scheduled', 'running', 'paused')
        """, [id]
      ).affected
      let erased = try connection.query(
        """
        UPDATE campaign_messages m SET \(PersonalData.clearedFromMessage),
          state = CASE WHEN m.state = 'pending' THEN 'skipped' ELSE m.state END,
          error = CASE WHEN m.state = 'pending' THEN 'the tenant''s data was erased' ELSE m.error END
        FROM campaigns c
        WHERE c.id = m.campaign_id AND c.tenant_id = $1 AND m.state <> 'sending'
          AND (m.phone IS NOT NULL OR m.rendered IS NOT NULL OR m.vars <> '{}')
        """, [id]
      ).affected
      let inFlight: Int = try connection.query(
        """
        SELECT count(*)::int AS n FROM campaign_messages m JOIN campaigns c ON c.id = m.campaign_id
        WHERE c.tenant_id = $1 AND m.state = 'sending'
        """, [id]
      ).rows[0].decode("n")
      let optOuts = try connection.query("DELETE FROM opt_outs WHERE tenant_id = $1", [id]).affected
      try connection.query("DELETE FROM erased_contacts WHERE tenant_id = $1", [id])
      let events = try connection.query(
        "UPDATE events SET payload = payload - 'phone' WHERE tenant_id = $1 AND payload ? 'phone'", [id]
      ).affected
      let keys = try connection.query(
        "UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND revoked_at IS NULL", [id]
      ).affected
      let endpoints = try connection.query(
        "UPDATE webhook_endpoints SET deleted_at = now() WHERE tenant_id = $1 AND deleted_at IS NULL", [id]
      ).affected
      let chips = try connection.query(
        "UPDATE chips SET waha_api_key = NULL WHERE tenant_id = $1 AND waha_api_key IS NOT NULL", [id]
      ).affected
      try connection.query("UPDATE tenants SET erased_at = coalesce(erased_at, now()) WHERE id = $1", [id])
      return TenantErasure(
        tenant: name, campaignsCancelled: cancelled, messagesErased: erased, messagesInFlight: inFlight,
        optOutsRemoved: optOuts, eventsScrubbed: events, apiKeysRevoked: keys, webhookEndpointsDeleted: endpoints,
        chipKeysRemoved: chips)
    }
  }
}
