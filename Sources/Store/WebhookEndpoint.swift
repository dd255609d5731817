import Foundation
import Postgres
import Wire

/// Where a tenant's events (or, for the service, every tenant's) are delivered.
public struct WebhookEndpoint: Codable, Sendable, Equatable {
  public var id: Int64
  /// The tenant's name; nil for the service's endpoint (every tenant's events).
  @ExplicitNull public var tenant: String?
  public var url: String
  /// The event types it receives; empty for every type.
  public var events: [EventType]
  public var createdAt: Date
  /// Since when every delivery failed; nil when the last one succeeded.
  @ExplicitNull public var failingSince: Date?
  /// Set after 3 days of failures: nothing more is delivered. Register the endpoint again.
  @ExplicitNull public var disabledAt: Date?
}

/// One delivery to make: an event, and the endpoint it goes to with the secret that signs it.
public struct WebhookDelivery: Sendable {
  public var endpointID: Int64
  public var url: String
  public var secret: String
  public var event: Event
}

public enum WebhookEndpointError: Error, CustomStringConvertible, Equatable {
  case notFound(Int64)

  public var description: String {
    switch self {
    case .notFound(let id): "no webhook endpoint \(id); list them with GET /v1/webhook-endpoints"
    }
  }
}

extension Store {
  /// How long an endpoint may fail every delivery before it is disabled.
  public static let webhookFailureLimit: TimeInterval = 3 * 86_400

  static let webhookColumns = """
    w.id, t.name AS tenant, w.url, array_to_string(w.events, ',') AS events, w.created_at, w.failing_since,
    w.disabled_at
    """

  /// Registers an endpoint; the secret that signs its deliveries is returned this once.
  public func createWebhookEndpoint(tenantID: TenantID?, url: String, events: [EventType]) async throws -> (
    WebhookEndpoint, secret: String
  ) {
    var bytes = [UInt8](repeating: 0, count: 24)
    var generator = SystemRandomNumberGenerator()
    for index in bytes.indices { bytes[index] = generator.next() }
    let secret = "whsec_" + bytes.map { String(format: "%02x", $0) }.joined()
    let rows = try await pool.query(
      """
      WITH w AS (
        INSERT INTO webhook_endpoints (tenant_id, url, events, secret)
        VALUES ($1, $2, string_to_array($3, ',')::text[], $4) RETURNING *
      )
      SELECT \(Self.webhookColumns) FROM w LEFT JOIN tenants t ON t.id = w.tenant_id
      """, [tenantID, url, events.map(\.rawValue).joined(separator: ","), secret])
    return (try Self.endpoint(rows[0]), secret)
  }

  /// The endpoints of a tenant, or the service's (nil), newest last; deleted ones are gone.
  public func webhookEndpoints(tenantID: TenantID?) async throws -> [WebhookEndpoint] {
    try await pool.query(
      """
      SELECT \(Self.webhookColumns) FROM webhook_endpoints w LEFT JOIN tenants t ON t.id = w.tenant_id
      WHERE w.deleted_at IS NULL AND w.tenant_id IS NOT DISTINCT FROM $1 ORDER BY w.id
      """, [tenantID]
    ).rows.map(Self.endpoint)
  }

  /// Every live endpoint of every tenant and the service's, those failing or disabled first: what
  /// an operator checks when deliveries pile up.
  public func allWebhookEndpoints(limit: Int = 500) async throws -> [WebhookEndpoint] {
    try await pool.query(
      """
      SELECT \(Self.webhookColumns) FROM webhook_endpoints w LEFT JOIN tenants t ON t.id = w.tenant_id
      WHERE w.deleted_at IS NULL
      ORDER BY (w.disabled_at IS NULL), (w.failing_since IS NULL), w.id LIMIT $1
      """, [limit]
    ).rows.map(Self.endpoint)
  }

  /// Deletes an endpoint of the tenant (or the service's): deliveries already queued for it stop.
  public func deleteWebhookEndpoint(tenantID: TenantID?, id: Int64) async throws {
    let deleted = try await pool.query(
      """
      UPDATE webhook_endpoints SET deleted_at = now()
      WHERE id = $1 AND tenant_id IS NOT DISTINCT FROM $2 AND deleted_at IS NULL
      """, [id, tenantID]
    ).affected
    guard deleted > 0 else { throw WebhookEndpointError.notFound(id) }
  }

  /// The next events past the dispatcher's cursor, each with the live endpoints that want it, and
  /// the cursor to move to once their deliveries are enqueued (`advanceWebhookDispatch`).
  public func webhookDispatchBatch(limit: Int) async throws -> (
    cursor: Int64, next: Int64, deliveries: [(endpointID: Int64, eventID: Int64)]
  ) {
    let cursor = try await pool.query("SELECT cursor FROM webhook_dispatch WHERE id = 1")[0].decode(
      "cursor", as: Int64.self)
    // Only the ids, visible under the same rule as the feed's: the dispatcher never decodes an
    // event, so no row it could not read (a kind this build does not know) can stop its cursor.
    let ids = try await pool.query(
      """
      SELECT e.id FROM events e
      WHERE e.id > $1 AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY e.id LIMIT $2
      """, [cursor, limit]
    ).rows.map { try $0.decode("id", as: Int64.self) }
    guard let lastID = ids.last else { return (cursor, cursor, []) }
    let rows = try await pool.query(
      """
      SELECT e.id AS event_id, w.id AS endpoint_id
      FROM events e JOIN webhook_endpoints w
        ON (w.tenant_id IS NULL OR w.tenant_id = e.tenant_id)
        AND (cardinality(w.events) = 0 OR e.kind = ANY (w.events))
        AND w.deleted_at IS NULL AND w.disabled_at IS NULL AND w.created_at <= e.created_at
      WHERE e.id > $1 AND e.id <= $2
      ORDER BY e.id, w.id
      """, [cursor, lastID])
    return (
      cursor, lastID,
      try rows.rows.map { (try $0.decode("endpoint_id", as: Int64.self), try $0.decode("event_id", as: Int64.self)) }
    )
  }

  /// Moves the dispatcher's cursor from `cursor` to `next`; false when another dispatcher moved it
  /// first (its deliveries are the same jobs, deduplicated by their keys).
  public func advanceWebhookDispatch(from cursor: Int64, to next: Int64) async throws -> Bool {
    try await pool.query(
      "UPDATE webhook_dispatch SET cursor = $2 WHERE id = 1 AND cursor = $1", [cursor, next]
    ).affected > 0
  }

  /// What `webhook.deliver` sends; nil when the endpoint was deleted or disabled since.
  public func webhookDelivery(endpointID: Int64, eventID: Int64) async throws -> WebhookDelivery? {
    let rows = try await pool.query(
      """
      SELECT w.url, w.secret, e.tenant_id FROM webhook_endpoints w, events e
      WHERE w.id = $1 AND e.id = $2 AND w.deleted_at IS NULL AND w.disabled_at IS NULL
      """, [endpointID, eventID])
    guard let row = rows.first else { return nil }
    let tenantID: TenantID = try row.decode("tenant_id")
    // The event as the feed shows it (one tenant's page starting just before it).
    guard
      let event = try await events(tenantID: tenantID, after: eventID - 1, types: [], limit: 1).first,
      event.id == eventID
    else { return nil }
    return WebhookDelivery(
      endpointID: endpointID, url: try row.decode("url"), secret: try row.decode("secret"), event: event)
  }

  /// Records how a delivery went. A success clears the endpoint's failing streak; a failure starts
  /// one or, past `webhookFailureLimit`, disables the endpoint (with a `webhook_endpoint.disabled`
  /// event for a tenant's). Returns true when this failure disabled it.
  @discardableResult
  public func recordWebhookResult(endpointID: Int64, succeeded: Bool) async throws -> Bool {
    try await pool.transaction { connection in
      if succeeded {
        // Written only when a streak ends: a healthy endpoint's deliveries cost no update.
        try connection.query(
          "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
          [endpointID])
        return false
      }
      let rows = try connection.query(
        """
        UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now()),
          disabled_at = CASE WHEN coalesce(failing_since, now()) + $2::interval <= now() THEN now() END
        WHERE id = $1 AND disabled_at IS NULL AND deleted_at IS NULL
        RETURNING disabled_at IS NOT NULL AS disabled, tenant_id, url, failing_since
        """, [endpointID, "\(Int(Self.webhookFailureLimit)) seconds"])
      guard let row = rows.first, try row.decode("disabled", as: Bool.self) else { return false }
      if let tenantID = try row.decodeIfPresent("tenant_id", as: TenantID.self) {
        try Self.recordEvent(
          connection, tenantID: tenantID, .webhookEndpointDisabled, subject: EventSubject(.webhookEndpoint, endpointID),
          [
            "url": .string(try row.decode("url")),
            "failing_since": .string(WireJSON.time(try row.decode("failing_since", as: Date.self))),
          ])
      }
      return true
    }
  }

  private static func endpoint(_ row: PostgresRow) throws -> WebhookEndpoint {
    WebhookEndpoint(
      id: try row.decode("id"), tenant: try row.decodeIfPresent("tenant"), url: try row.decode("url"),
      events: try (row.text("events") ?? "").split(separator: ",").map {
        try EventType(postgresText: String($0))
      },
      createdAt: try row.decode("created_at"), failingSince: try row.decodeIfPresent("failing_since"),
      disabledAt: try row.decodeIfPresent("disabled_at"))
  }
}
