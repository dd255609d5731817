import Foundation
import Postgres
import Store

/// What WAHA's webhooks change in the system of record. Each event is applied once: its envelope
/// id is recorded in the same transaction, so WAHA's redeliveries change nothing twice.
extension Store {
  public enum EventOutcome: Sendable, Equatable {
    case applied
    /// Seen before (WAHA retried the delivery).
    case duplicate
    /// About a session no chip is registered for (or several, without WHAGO's metadata to tell).
    case unknownChip
  }

  /// Records a session's new status on its chip, and when it stopped working.
  public func applySessionStatus(
    eventID: String, session: String, chipID: Int64?, status: ChipStatus
  ) async throws -> EventOutcome {
    try await pool.transaction { connection in
      guard try Self.firstDelivery(connection, eventID: eventID, type: "session.status") else { return .duplicate }
      guard let chip = try Self.chip(connection, session: session, chipID: chipID) else { return .unknownChip }
      try Self.setChipStatus(connection, id: chip.id, status: status)
      return .applied
    }
  }

  /// Moves a sent message forward by WAHA's ack (2 DEVICE: delivered, 3 READ and 4 PLAYED: read);
  /// a message never moves back, and acks for messages this system did not send change nothing.
  /// `chipID`: the event came from that chip's own receiver, so it moves only that chip's messages.
  /// An ack for a message no campaign has recorded yet is kept (`early_message_acks`): the webhook
  /// can outrun the worker that sent the message, and `recordSent` applies it.
  public func applyMessageAck(
    eventID: String, messageID: String, ack: Int, chipID: Int64? = nil
  ) async throws -> EventOutcome {
    try await pool.transaction { connection in
      guard try Self.firstDelivery(connection, eventID: eventID, type: "message.ack") else { return .duplicate }
      // 1 SERVER, 0 PENDING and -1 ERROR move nothing this system shows.
      guard ack >= 2 else { return .applied }
      let ack = min(ack, 4)
      try Self.lockAcks(connection, wahaMessageID: messageID)
      let moved = try connection.query(
        """
        UPDATE campaign_messages SET \(Self.advancedByAck)
        WHERE waha_message_id = $1 AND ($3::bigint IS NULL OR chip_id = $3)
          AND (state = 'sent' OR (state = 'delivered' AND $2 >= 3))
        """, [messageID, ack, chipID]
      ).affected
      if moved == 0,
        try connection.query(
          "SELECT 1 FROM campaign_messages WHERE waha_message_id = $1 LIMIT 1", [messageID]
        ).count == 0
      {
        try connection.query(
          """
          INSERT INTO early_message_acks (waha_message_id, chip_id, ack) VALUES ($1, $2, $3)
          ON CONFLICT (waha_message_id) DO UPDATE SET ack = greatest(early_message_acks.ack, EXCLUDED.ack)
          """, [messageID, chipID, ack])
      }
      return .applied
    }
  }

  /// The SET list that moves a message by the ack `$2`: 2 to delivered, 3 and 4 to read. The same
  /// list is written out in `record_sent` (migration 25), which applies an ack that came early.
  static let advancedByAck = """
    state = CASE WHEN $2 >= 3 THEN 'read' ELSE 'delivered' END,
      delivered_at = coalesce(delivered_at, now()),
      read_at = CASE WHEN $2 >= 3 THEN coalesce(read_at, now()) ELSE read_at END
    """

  /// Serializes an ack and the recording of its send on WAHA's message id, until the transaction
  /// ends: whichever commits second sees the other's row (without it, 21 of 40 acks racing their
  /// sends in EarlyAckTests were lost). The two-key form, whose key space is apart from the
  /// migrator's one-key lock. `record_sent` (migration 25) takes the same lock.
  static func lockAcks(_ connection: PostgresConnection, wahaMessageID: String) throws {
    try connection.query("SELECT pg_advisory_xact_lock(23, hashtext($1))", [wahaMessageID])
  }

  /// Records that `phone` (E.164) answered an opt-out word to one of the tenant's chips: no
  /// campaign of that tenant sends to it again.
  public func applyOptOutReply(
    eventID: String, session: String, chipID: Int64?, phone: String, keyword: String
  ) async throws -> EventOutcome {
    try await pool.transaction { connection in
      guard try Self.firstDelivery(connection, eventID: eventID, type: "message") else { return .duplicate }
      guard let chip = try Self.chip(connection, session: session, chipID: chipID) else { return .unknownChip }
      try connection.query(
        """
        INSERT INTO opt_outs (tenant_id, phone, source, reason) VALUES ($1, $2, 'reply', $3)
        ON CONFLICT (tenant_id, phone) DO NOTHING
        """, [chip.tenantID, phone, keyword])
      return .applied
    }
  }

  /// Whether `phone` opted out of this tenant's messages.
  public func hasOptedOut(tenantID: TenantID, phone: String) async throws -> Bool {
    try await pool.query(
      """
      SELECT 1 FROM opt_outs WHERE tenant_id = $1 AND phone = $2
      UNION ALL SELECT 1 FROM erased_contacts WHERE tenant_id = $1 AND phone_hash = contact_hash($1::bigint, $2::text)
      """, [tenantID, phone]
    ).count > 0
  }

  /// Records a delivery of a non-acting event (a plain incoming message) for deduplication.
  public func recordEvent(eventID: String, type: String) async throws -> EventOutcome {
    try await pool.transaction { connection in
      try Self.firstDelivery(connection, eventID: eventID, type: type) ? .applied : .duplicate
    }
  }

  private static func firstDelivery(_ connection: PostgresConnection, eventID: String, type: String) throws -> Bool {
    try connection.query(
      """
      INSERT INTO webhook_events (source, event_id, event_type) VALUES ('waha', $1, $2)
      ON CONFLICT (source, event_id) DO NOTHING
      """, [String(eventID.prefix(200)), String(type.prefix(60))]
    ).affected == 1
  }

  /// The chip an event is about: WHAGO's own chip id from the session metadata when present,
  /// else the one chip with that session name.
  private static func chip(_ connection: PostgresConnection, session: String, chipID: Int64?) throws
    -> (id: Int64, tenantID: TenantID)?
  {
    let rows =
      if let chipID {
        try connection.query("SELECT id, tenant_id FROM chips WHERE id = $1 AND session = $2", [chipID, session])
      } else {
        try connection.query("SELECT id, tenant_id FROM chips WHERE session = $1 LIMIT 2", [session])
      }
    guard rows.count == 1 else { return nil }
    return (try rows[0].decode("id", as: Int64.self), try rows[0].decode("tenant_id", as: TenantID.self))
  }
}
