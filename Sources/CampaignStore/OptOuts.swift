import Foundation
import Postgres
import Store
import Wire

/// Who recorded an opt-out: the recipient's own reply, the tenant through the API, or an operator
/// (WHAGO's backend, with a service key).
public enum OptOutSource: String, PostgresState, Sendable {
  case reply
  case api
  case `operator`
}

/// A number that is never messaged again by any of its tenant's campaigns.
public struct OptOutRecord: Codable, Sendable, Equatable {
  public var id: Int64
  public var phone: String
  public var source: OptOutSource
  /// The keyword of a reply (`SAIR`), or the reason given with the API.
  @ExplicitNull public var reason: String?
  public var createdAt: Date
}

/// One number to opt out, E.164, with why.
public struct OptOutEntry: Sendable, Equatable {
  public var phone: String
  public var reason: String?

  public init(phone: String, reason: String?) {
    self.phone = phone
    self.reason = reason
  }
}

extension Store {
  /// Records opt-outs; a number already opted out keeps its first record. In the same transaction
  /// every pending message to those numbers in the tenant's unfinished campaigns becomes skipped,
  /// so a running campaign's report shows it at once (the sender checks again when it claims a
  /// message, so one claimed in between is not sent either). Returns the records added.
  public func addOptOuts(tenantID: TenantID, _ entries: [OptOutEntry], source: OptOutSource) async throws
    -> [OptOutRecord]
  {
    struct Row: Encodable {
      var phone: String
      var reason: String?
    }
    let rows = String(
      decoding: try JSONEncoder().encode(entries.map { Row(phone: $0.phone, reason: $0.reason) }), as: UTF8.self)
    return try await pool.transaction { connection in
      let added = try connection.query(
        """
        INSERT INTO opt_outs (tenant_id, phone, source, reason)
        SELECT $1, r->>'phone', $3, r->>'reason' FROM jsonb_array_elements($2::jsonb) AS r
        ON CONFLICT (tenant_id, phone) DO NOTHING
        RETURNING id, phone, source, reason, created_at
        """, [tenantID, rows, source.rawValue]
      ).decode(OptOutRecord.self)
      if !added.isEmpty {
        try connection.query(
          """
          UPDATE campaign_messages m SET state = 'skipped', error = 'opted out'
          FROM campaigns c
          WHERE c.id = m.campaign_id AND c.tenant_id = $1 AND c.status NOT IN ('completed', 'cancelled')
            AND m.state = 'pending' AND m.phone = ANY($2::text[])
          """, [tenantID, "{" + added.map(\.phone).joined(separator: ",") + "}"])
      }
      return added
    }
  }

  /// The tenant's opt-outs in id order after `cursor`, or only `phone`'s.
  public func optOuts(tenantID: TenantID, phone: String? = nil, after cursor: Int64, limit: Int) async throws
    -> [OptOutRecord]
  {
    try await pool.query(
      """
      SELECT id, phone, source, reason, created_at FROM opt_outs
      WHERE tenant_id = $1 AND id > $2 AND ($3::text IS NULL OR phone = $3)
      ORDER BY id LIMIT $4
      """, [tenantID, cursor, phone, limit]
    ).decode(OptOutRecord.self)
  }

  /// Lets campaigns message `phone` again; false when it had not opted out. Messages skipped for
  /// the opt-out stay skipped: only recipients added afterwards are sent to.
  public func removeOptOut(tenantID: TenantID, phone: String) async throws -> Bool {
    try await pool.query("DELETE FROM opt_outs WHERE tenant_id = $1 AND phone = $2", [tenantID, phone]).affected > 0
  }
}
