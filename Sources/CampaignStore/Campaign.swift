import Foundation
import Postgres
import Store

/// A campaign as its tenant reads it back.
public struct CampaignRecord: Codable, Sendable, Equatable {
  public var id: Int64
  public var name: String
  public var template: String
  public var mediaUrl: String?
  public var status: CampaignStatus
  public var pauseReason: String?
  public var minIntervalMs: Int
  public var maxIntervalMs: Int
  public var startAt: Date?
  public var startedAt: Date?
  public var completedAt: Date?
  public var createdAt: Date
}

/// Messages by state; `sent` counts delivered and read too, `delivered` counts read.
public struct CampaignCounts: Codable, Sendable, Equatable {
  public var total = 0
  public var pending = 0
  public var sending = 0
  public var sent = 0
  public var delivered = 0
  public var read = 0
  public var failed = 0
  public var skipped = 0

  public init() {}
}

/// The longer pause a chip takes after every `every` sends.
public struct CampaignRest: Sendable, Equatable {
  public var every: Int
  public var minMs: Int
  public var maxMs: Int

  public init(every: Int, minMs: Int, maxMs: Int) {
    self.every = every
    self.minMs = minMs
    self.maxMs = maxMs
  }

  /// WAHA's advice, our default: 5 to 15 minutes after every 40 messages of a chip.
  public static let human = CampaignRest(every: 40, minMs: 300_000, maxMs: 900_000)
}

/// One recipient to store: its E.164 number and its template variables.
public struct CampaignRecipient: Sendable, Equatable {
  public var phone: String
  public var variables: [String: String]

  public init(phone: String, variables: [String: String]) {
    self.phone = phone
    self.variables = variables
  }
}

public enum CampaignError: Error, CustomStringConvertible, Equatable {
  case unknownChips([Int64])
  case notFound(Int64)
  case finished(Int64, status: CampaignStatus)

  public var description: String {
    switch self {
    case .unknownChips(let ids):
      "no chip \(ids.map(String.init).joined(separator: ", ")) among the tenant's; list them with GET /v1/chips"
    case .notFound(let id): "no campaign \(id)"
    case .finished(let id, let status): "campaign \(id) is \(status); recipients can only be added before it ends"
    }
  }
}

extension Store {
  static let campaignColumns =
    "id, name, template, media_url, status, pause_reason, min_interval_ms, max_interval_ms, start_at, started_at, "
    + "completed_at, created_at"

  /// Creates a draft campaign with its chips and recipients in one transaction; recipients who
  /// opted out of this tenant's messages are stored as skipped, never to be sent to.
  public func createCampaign(
    tenantID: TenantID, name: String, template: String, mediaURL: String?, chipIDs: [Int64], minIntervalMs: Int,
    maxIntervalMs: Int, rest: CampaignRest? = .human, startAt: Date?, recipients: [CampaignRecipient]
  ) async throws -> Int64 {
    let rows = try Self.recipientsJSON(recipients)
    return try await pool.transaction { connection in
      let owned = try connection.query(
        "SELECT id FROM chips WHERE tenant_id = $1 AND id = ANY($2::bigint[])",
        [tenantID, "{" + chipIDs.map(String.init).joined(separator: ",") + "}"]
      ).rows.map { try $0.decode("id", as: Int64.self) }
      let missing = chipIDs.filter { !owned.contains($0) }
      if !missing.isEmpty { throw CampaignError.unknownChips(missing) }
      let id = try connection.query(
        """
        INSERT INTO campaigns (tenant_id, name, template, media_url, min_interval_ms, max_interval_ms, start_at,
          rest_every, rest_min_ms, rest_max_ms)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id
        """,
        [
          tenantID, name, template, mediaURL, minIntervalMs, maxIntervalMs, startAt, rest?.every, rest?.minMs ?? 0,
          rest?.maxMs ?? 0,
        ]
      )[0].decode("id", as: Int64.self)
      try connection.query(
        """
        INSERT INTO campaign_chips (tenant_id, campaign_id, chip_id)
        SELECT $1, $2, unnest($3::bigint[])
        """, [tenantID, id, "{" + Set(chipIDs).map(String.init).joined(separator: ",") + "}"])
      try Self.insertRecipients(connection, tenantID: tenantID, campaignID: id, rows: rows)
      return id
    }
  }

  /// Adds recipients to a campaign that has not ended; numbers already listed are left as they are.
  /// Returns how many were added.
  public func addRecipients(tenantID: TenantID, campaignID: Int64, recipients: [CampaignRecipient]) async throws -> Int
  {
    let rows = try Self.recipientsJSON(recipients)
    return try await pool.transaction { connection in
      let found = try connection.query(
        "SELECT status FROM campaigns WHERE id = $1 AND tenant_id = $2 FOR UPDATE", [campaignID, tenantID])
      guard let status = try found.first?.decode("status", as: CampaignStatus.self) else {
        throw CampaignError.notFound(campaignID)
      }
      if status.isFinished { throw CampaignError.finished(campaignID, status: status) }
      return try Self.insertRecipients(connection, tenantID: tenantID, campaignID: campaignID, rows: rows)
    }
  }

  /// The numbers (E.164) a campaign already lists, so a new upload can reject repeats.
  public func campaignPhones(tenantID: TenantID, campaignID: Int64) async throws -> [String] {
    try await pool.query(
      """
      SELECT m.phone FROM campaign_messages m JOIN campaigns c ON c.id = m.campaign_id
      WHERE c.id = $1 AND c.tenant_id = $2 AND m.phone IS NOT NULL
      """, [campaignID, tenantID]
    ).rows.map { try $0.decode("phone") }
  }

  /// The campaign, its chips and its counts; nil when the tenant has no such campaign.
  public func campaign(tenantID: TenantID, id: Int64) async throws -> (CampaignRecord, [Int64], CampaignCounts)? {
    try await pool.withConnection { connection in
      let rows = try connection.query(
        "SELECT \(Self.campaignColumns) FROM campaigns WHERE id = $1 AND tenant_id = $2", [id, tenantID])
      guard let row = rows.first else { return nil }
      let record = try row.decode(CampaignRecord.self)
      let chips = try connection.query(
        "SELECT chip_id FROM campaign_chips WHERE campaign_id = $1 ORDER BY chip_id", [id]
      ).rows.map { try $0.decode("chip_id", as: Int64.self) }
      let counts = try connection.query("SELECT * FROM campaign_progress WHERE campaign_id = $1", [id]).first.map {
        try CampaignCounts(row: $0)
      }
      return (record, chips, counts ?? CampaignCounts())
    }
  }

  private static func recipientsJSON(_ recipients: [CampaignRecipient]) throws -> String {
    struct Row: Encodable {
      var phone: String
      var vars: [String: String]
    }
    let data = try JSONEncoder().encode(recipients.map { Row(phone: $0.phone, vars: $0.variables) })
    return String(decoding: data, as: UTF8.self)
  }

  /// One statement for any number of recipients (a JSON array expanded by PostgreSQL), then the
  /// tenant's opt-outs marked skipped.
  @discardableResult
  private static func insertRecipients(
    _ connection: PostgresConnection, tenantID: TenantID, campaignID: Int64, rows: String
  ) throws -> Int {
    let inserted = try connection.query(
      """
      INSERT INTO campaign_messages (campaign_id, phone, vars)
      SELECT $1, r->>'phone', r->'vars' FROM jsonb_array_elements($2::jsonb) AS r
      ON CONFLICT (campaign_id, phone) DO NOTHING
      """, [campaignID, rows]
    ).affected
    try connection.query(
      """
      UPDATE campaign_messages SET state = 'skipped', error = 'opted out'
      WHERE campaign_id = $1 AND state = 'pending'
        AND phone IN (SELECT phone FROM opt_outs WHERE tenant_id = $2)
      """, [campaignID, tenantID])
    // A number erased at its owner's request, listed again: never sent, and not kept either.
    try connection.query(
      """
      UPDATE campaign_messages SET state = 'skipped', error = 'erased at its owner''s request', phone = NULL,
        vars = '{}'
      WHERE campaign_id = $1 AND state = 'pending'
        AND contact_hash($2::bigint, phone) IN (SELECT phone_hash FROM erased_contacts WHERE tenant_id = $2)
      """, [campaignID, tenantID])
    return inserted
  }
}
