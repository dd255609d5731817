import Foundation
import Postgres
import Store
import Wire

/// Everything a tenant holds about one number (LGPD Art. 18: confirmation and access).
public struct ContactRecord: Codable, Sendable, Equatable {
  public struct Message: Codable, Sendable, Equatable {
    public var campaignId: Int64
    public var campaignName: String
    public var state: MessageState
    @ExplicitNull public var chatId: String?
    /// The campaign's variables for this number, as uploaded.
    public var vars: JSONValue
    /// The text sent, once sent.
    @ExplicitNull public var rendered: String?
    @ExplicitNull public var reason: String?
    public var createdAt: Date
    @ExplicitNull public var sentAt: Date?
    @ExplicitNull public var deliveredAt: Date?
    @ExplicitNull public var readAt: Date?
    @ExplicitNull public var failedAt: Date?
  }

  public var phone: String
  @ExplicitNull public var optOut: OptOutRecord?
  /// Erased at its owner's request before: only its hash is kept, and it is never messaged.
  public var erased: Bool
  public var messages: [Message]
}

/// What erasing one number did.
public struct ContactErasure: Codable, Sendable, Equatable {
  public var phone: String
  /// Messages that lost the number, its chat id, variables and text.
  public var messagesErased: Int
  /// Of those, ones not sent yet: skipped now, never sent.
  public var messagesSkipped: Int
  /// Messages being sent at this moment, left to finish: erase again in a minute for those.
  public var messagesInFlight: Int
  public var optOutRemoved: Bool
  public var eventsScrubbed: Int
}

extension Store {
  /// Every message of the tenant's campaigns to `phones` (the spellings of one number), its
  /// opt-out, and whether it was erased before.
  public func contactRecord(tenantID: TenantID, phones: [String]) async throws -> ContactRecord {
    let list = "{" + phones.joined(separator: ",") + "}"
    return try await pool.transaction { connection in
      let messages = try connection.query(
        """
        SELECT m.campaign_id, c.name AS campaign_name, m.state, m.chat_id, m.vars::text AS vars, m.rendered,
          m.error AS reason, m.created_at, m.sent_at, m.delivered_at, m.read_at, m.failed_at
        FROM campaign_messages m JOIN campaigns c ON c.id = m.campaign_id
        WHERE c.tenant_id = $1 AND m.phone = ANY($2::text[]) ORDER BY m.id
        """, [tenantID, list]
      ).rows.map { row in
        ContactRecord.Message(
          campaignId: try row.decode("campaign_id"), campaignName: try row.decode("campaign_name"),
          state: try row.decode("state"), chatId: try row.decodeIfPresent("chat_id"),
          vars: (try? JSONValue.parse(Array((try row.decode("vars", as: String.self)).utf8))) ?? .object([:]),
          rendered: try row.decodeIfPresent("rendered"), reason: try row.decodeIfPresent("reason"),
          createdAt: try row.decode("created_at"), sentAt: try row.decodeIfPresent("sent_at"),
          deliveredAt: try row.decodeIfPresent("delivered_at"), readAt: try row.decodeIfPresent("read_at"),
          failedAt: try row.decodeIfPresent("failed_at"))
      }
      let optOut = try connection.query(
        """
        SELECT id, phone, source, reason, created_at FROM opt_outs
        WHERE tenant_id = $1 AND phone = ANY($2::text[]) ORDER BY id LIMIT 1
        """, [tenantID, list]
      ).decode(OptOutRecord.self).first
      let erased =
        try connection.query(
          """
          SELECT 1 FROM erased_contacts WHERE tenant_id = $1
            AND phone_hash IN (SELECT contact_hash($1::bigint, p) FROM unnest($2::text[]) AS p)
          """, [tenantID, list]
        ).count > 0
      return ContactRecord(phone: phones[0], optOut: optOut, erased: erased, messages: messages)
    }
  }

  /// Erases a number from the tenant's data at its owner's request: its messages keep their
  /// states and times (the campaigns' counts still add up) and lose the number, chat id,
  /// variables and text; ones not sent yet are skipped; its opt-out and any event that names it
  /// lose it too. Only a hash of it stays, so no campaign messages it again. Safe to repeat; a
  /// message being sent right now is left to finish and reported, for a second call.
  public func eraseContact(tenantID: TenantID, phones: [String]) async throws -> ContactErasure {
    let list = "{" + phones.joined(separator: ",") + "}"
    return try await pool.transaction { connection in
      try connection.query(
        """
        INSERT INTO erased_contacts (tenant_id, phone_hash)
        SELECT $1::bigint, contact_hash($1::bigint, p) FROM unnest($2::text[]) AS p ON CONFLICT DO NOTHING
        """, [tenantID, list])
      let counts = try connection.query(
        """
        WITH erased AS (
          UPDATE campaign_messages m SET \(PersonalData.clearedFromMessage),
            state = CASE WHEN m.state = 'pending' THEN 'skipped' ELSE m.state END,
            error = CASE WHEN m.state = 'pending' THEN 'erased at its owner''s request' ELSE m.error END
          FROM campaigns c
          WHERE c.id = m.campaign_id AND c.tenant_id = $1 AND m.phone = ANY($2::text[]) AND m.state <> 'sending'
          RETURNING m.error
        )
        SELECT count(*)::int AS erased,
          count(*) FILTER (WHERE error = 'erased at its owner''s request')::int AS skipped,
          (SELECT count(*)::int FROM campaign_messages s JOIN campaigns c ON c.id = s.campaign_id
             WHERE c.tenant_id = $1 AND s.phone = ANY($2::text[]) AND s.state = 'sending') AS in_flight
        FROM erased
        """, [tenantID, list])
      let optOut =
        try connection.query(
          "DELETE FROM opt_outs WHERE tenant_id = $1 AND phone = ANY($2::text[])", [tenantID, list]
        ).affected > 0
      let events = try connection.query(
        """
        UPDATE events SET payload = payload - 'phone'
        WHERE tenant_id = $1 AND payload->>'phone' = ANY($2::text[])
        """, [tenantID, list]
      ).affected
      let row = counts.rows[0]
      return ContactErasure(
        phone: phones[0], messagesErased: try row.decode("erased"), messagesSkipped: try row.decode("skipped"),
        messagesInFlight: try row.decode("in_flight"), optOutRemoved: optOut, eventsScrubbed: events)
    }
  }
}
