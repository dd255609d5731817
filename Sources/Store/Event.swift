import Postgres
import Wire

extension Store {
  /// Records something a tenant should hear about (`campaign.paused`, `billing.paid`, …) in the
  /// caller's transaction, so the event exists exactly when its cause committed. With `dedupeKey`
  /// an event of that kind is recorded once per key (`credits.low` once a period).
  package static func recordEvent(
    _ connection: PostgresConnection, tenantID: TenantID, _ kind: String, _ payload: [String: JSONValue],
    dedupeKey: String? = nil
  ) throws {
    try connection.query(
      """
      INSERT INTO events (tenant_id, kind, payload, dedupe_key) VALUES ($1, $2, $3::jsonb, $4)
      ON CONFLICT DO NOTHING
      """, [tenantID, kind, JSONValue.object(payload).text(), dedupeKey])
  }
}
