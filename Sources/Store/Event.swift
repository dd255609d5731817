import Foundation
import Postgres
import Wire

/// Every kind of event a tenant or WHAGO's backend hears about. openapi.yaml lists the same
/// values (EventTypeDocumentTests holds the two together), so a kind added here is documented there.
public enum EventType: String, PostgresState, Sendable {
  case campaignStarted = "campaign.started"
  /// With `data.reason`: manual, no_credits, tenant_suspended, no_working_chips, outside_window.
  case campaignPaused = "campaign.paused"
  case campaignResumed = "campaign.resumed"
  case campaignCompleted = "campaign.completed"
  case campaignCancelled = "campaign.cancelled"
  case chipWorking = "chip.working"
  case chipFailed = "chip.failed"
  case chipLoggedOut = "chip.logged_out"
  case chipUnreachable = "chip.unreachable"
  /// A chip whago runs stayed FAILED through its restarts (`data.restarts`): someone must look.
  case chipNeedsAttention = "chip.needs_attention"
  /// The plan allows fewer chips than the tenant has: this one sends nothing until a plan allows it
  /// again (`data.plan`, `data.limit`).
  case chipReadOnly = "chip.read_only"
  /// A plan allows the chip again: it sends as before (`data.plan`).
  case chipWritable = "chip.writable"
  case creditsLow = "credits.low"
  case creditsExhausted = "credits.exhausted"
  /// With `data.credits` and `data.reference`; a bought pack adds `data.pack` and `data.purchase_id`.
  case creditsAdded = "credits.added"
  /// A credit pack purchase ended unpaid (`data.purchase_id`, `data.pack`, `data.status` failed or
  /// expired, `data.reason`): nothing was granted.
  case creditsPurchaseFailed = "credits.purchase_failed"
  /// A bought pack was refunded or charged back (`data.reason`): its unspent credits were removed
  /// (`data.removed`); `data.already_spent` were spent before and are for an operator to settle.
  case creditsReversed = "credits.reversed"
  case maturationDayCompleted = "maturation.day_completed"
  case maturationCompleted = "maturation.completed"
  case billingPaid = "billing.paid"
  case billingPaymentFailed = "billing.payment_failed"
  case billingSuspended = "billing.suspended"
  case billingDowngraded = "billing.downgraded"
  case billingReactivated = "billing.reactivated"
  /// The gateway ended a subscription it bills by itself (`data.reason` gateway, `data.gateway`,
  /// `data.gateway_status`): nothing more is charged, and the free plan follows `data.ends_at`.
  case billingCancelled = "billing.cancelled"
  /// The plan changed in the middle of a period (an upgrade, once paid), with `data.from`, `data.to`
  /// and `data.amount_cents` charged for the rest of the period.
  case billingPlanChanged = "billing.plan_changed"
  /// A charge the gateway refused for a reason an operator must look at (a bad key, an unknown customer).
  case billingChargeError = "billing.charge_error"
  /// The customer must act (3-D Secure, an expired card) before the invoice can be charged.
  case billingActionRequired = "billing.action_required"
  /// A tenant's webhook endpoint failed every delivery for 3 days and receives nothing more.
  case webhookEndpointDisabled = "webhook_endpoint.disabled"
}

/// What an event is about: the campaign, chip, invoice, subscription or warm-up program, by id.
public struct EventSubject: Codable, Sendable, Equatable {
  public enum Kind: String, PostgresState, Sendable {
    case campaign, chip, invoice, subscription, maturation
    case webhookEndpoint = "webhook_endpoint"
  }

  public var type: Kind
  public var id: Int64

  public init(_ type: Kind, _ id: Int64) {
    self.type = type
    self.id = id
  }

  public static func campaign(_ id: Int64) -> EventSubject { EventSubject(.campaign, id) }
  public static func chip(_ id: Int64) -> EventSubject { EventSubject(.chip, id) }
  public static func invoice(_ id: Int64) -> EventSubject { EventSubject(.invoice, id) }
  public static func subscription(_ id: Int64) -> EventSubject { EventSubject(.subscription, id) }
  public static func maturation(_ id: Int64) -> EventSubject { EventSubject(.maturation, id) }
}

/// One event as the feed and the webhooks carry it.
public struct Event: Codable, Sendable, Equatable {
  public var id: Int64
  public var type: EventType
  /// The tenant's name.
  public var tenant: String
  /// The database's time when the change that caused it happened.
  public var occurredAt: Date
  @ExplicitNull public var subject: EventSubject?
  public var data: JSONValue
}

extension Store {
  /// Records something a tenant should hear about in the caller's transaction, so the event
  /// exists exactly when its cause committed. With `dedupeKey` an event of that type is recorded
  /// once per key (`credits.low` once a period).
  package static func recordEvent(
    _ connection: PostgresConnection, tenantID: TenantID, _ type: EventType, subject: EventSubject? = nil,
    _ data: [String: JSONValue] = [:], dedupeKey: String? = nil
  ) throws {
    try connection.query(
      """
      INSERT INTO events (tenant_id, kind, subject_type, subject_id, payload, dedupe_key)
      VALUES ($1, $2, $3, $4, $5::jsonb, $6)
      ON CONFLICT DO NOTHING
      """,
      [
        tenantID, type, subject?.type, subject?.id, JSONValue.object(data).text(), dedupeKey,
      ])
  }

  /// Events after `cursor` (an event id; 0 for the first), oldest first: one tenant's, or every
  /// tenant's when `tenantID` is nil, of `types` if given. Only events whose transaction is older
  /// than every transaction still running are returned, so a later page never holds an event
  /// that belonged before the cursor (ids are taken at insert, not at commit).
  public func events(tenantID: TenantID?, after cursor: Int64, types: [EventType], limit: Int) async throws -> [Event] {
    let typeList: String? = types.isEmpty ? nil : types.map(\.rawValue).joined(separator: ",")
    let rows = try await pool.query(
      """
      SELECT e.id, e.kind, t.name AS tenant, e.created_at, e.subject_type, e.subject_id, e.payload::text AS data
      FROM events e JOIN tenants t ON t.id = e.tenant_id
      WHERE e.id > $1 AND ($2::bigint IS NULL OR e.tenant_id = $2)
        AND ($3::text IS NULL OR e.kind = ANY (string_to_array($3, ',')))
        AND e.xid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY e.id LIMIT $4
      """,
      [
        cursor, tenantID, typeList, limit,
      ])
    return try rows.rows.map(Self.event)
  }

  /// The newest events first, for people looking (the dashboard): of the tenant named `tenant`
  /// (every tenant's when nil), of `types` if given. Unlike the feed it shows an event as soon as
  /// it commits, so it is no cursor to resume from.
  public func recentEvents(tenant: String?, types: [EventType], limit: Int) async throws -> [Event] {
    let typeList: String? = types.isEmpty ? nil : types.map(\.rawValue).joined(separator: ",")
    return try await pool.query(
      """
      SELECT e.id, e.kind, t.name AS tenant, e.created_at, e.subject_type, e.subject_id, e.payload::text AS data
      FROM events e JOIN tenants t ON t.id = e.tenant_id
      WHERE ($1::text IS NULL OR t.name = $1) AND ($2::text IS NULL OR e.kind = ANY (string_to_array($2, ',')))
      ORDER BY e.id DESC LIMIT $3
      """, [tenant, typeList, limit]
    ).rows.map(Self.event)
  }

  private static func event(_ row: PostgresRow) throws -> Event {
    let subject: EventSubject? =
      if let type = try row.decodeIfPresent("subject_type", as: EventSubject.Kind.self) {
        EventSubject(type, try row.decode("subject_id"))
      } else { nil }
    return Event(
      id: try row.decode("id"), type: try row.decode("kind"), tenant: try row.decode("tenant"),
      occurredAt: try row.decode("created_at"), subject: subject,
      data: try JSONValue.parse(Array(try row.decode("data", as: String.self).utf8)))
  }
}
