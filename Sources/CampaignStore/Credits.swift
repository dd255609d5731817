import Foundation
import Postgres
import Store
import Wire

/// A tenant's credits now: the plan's for this period, then the packs it bought.
public struct CreditBalance: Codable, Sendable, Equatable {
  /// Nil when the plan's monthly credits are unlimited.
  public var planCreditsLeft: Int?
  public var planCreditsGranted: Int?
  public var packCreditsLeft: Int
  public var periodEnd: Date?

  /// Nil when unlimited.
  public var total: Int? { planCreditsLeft.map { $0 + packCreditsLeft } }
}

public enum CreditError: Error, CustomStringConvertible, Equatable {
  case badAmount(Int)
  case duplicateReference(String)

  public var description: String {
    switch self {
    case .badAmount(let credits): "a pack holds at least 1 credit (got \(credits))"
    case .duplicateReference(let ref):
      "a pack with reference '\(ref)' was already granted; a purchase is credited once"
    }
  }
}

/// One credit per message WAHA accepted, plan credits first, then packs oldest first. A message
/// reserves its credit when it is claimed for sending, under the tenant's credit row lock, so
/// parallel senders never spend a credit twice; a message that is not sent gives it back (failures
/// are free). The ledger row of a reservation is the charge once the message is sent.
extension Store {
  /// Takes one credit for `messageID`; false when the tenant has none left.
  /// `monthlyCredits` is the tenant's plan's (nil: unlimited), read by the caller with the campaign.
  static func reserveCredit(
    _ connection: PostgresConnection, tenantID: TenantID, monthlyCredits: Int?, messageID: Int64
  )
    throws -> Bool
  {
    guard let monthly = monthlyCredits else { return true }
    let account = try lockedAccount(connection, tenantID: tenantID, monthly: monthly)
    if account.left > 0 {
      try connection.query(
        "UPDATE credit_accounts SET plan_credits_left = plan_credits_left - 1, updated_at = now() WHERE tenant_id = $1",
        [tenantID])
      try connection.query(
        """
        INSERT INTO credit_ledger (tenant_id, delta, bucket, reason, campaign_message_id)
        VALUES ($1, -1, 'plan', 'message', $2)
        """, [tenantID, messageID])
    } else {
      let pack = try connection.query(
        """
        SELECT id FROM credit_packs WHERE tenant_id = $1 AND credits_left > 0 ORDER BY id LIMIT 1 FOR UPDATE
        """, [tenantID])
      guard let packID = try pack.first?.decode("id", as: Int64.self) else {
        // Once until credits come back: a new period or a new pack makes a new key.
        let key = try connection.query(
          """
          SELECT coalesce(a.period_start::text, '') || '/' ||
            (SELECT coalesce(max(id), 0) FROM credit_packs WHERE tenant_id = $1)::text AS key
          FROM tenants t LEFT JOIN credit_accounts a ON a.tenant_id = t.id WHERE t.id = $1
          """, [tenantID])[0].text("key")
        try recordEvent(connection, tenantID: tenantID, .creditsExhausted, dedupeKey: key)
        return false
      }
      try connection.query("UPDATE credit_packs SET credits_left = credits_left - 1 WHERE id = $1", [packID])
      try connection.query(
        """
        INSERT INTO credit_ledger (tenant_id, delta, bucket, credit_pack_id, reason, campaign_message_id)
        VALUES ($1, -1, 'pack', $2, 'message', $3)
        """, [tenantID, packID, messageID])
    }
    try alertIfLow(connection, tenantID: tenantID)
    return true
  }

  /// Gives back the credit a message reserved, if it holds one.
  static func refundCredit(_ connection: PostgresConnection, messageID: Int64) throws {
    let rows = try connection.query(
      """
      DELETE FROM credit_ledger WHERE campaign_message_id = $1 AND reason = 'message'
      RETURNING tenant_id, bucket, credit_pack_id
      """, [messageID])
    guard let row = rows.first else { return }
    if let pack = try row.decodeIfPresent("credit_pack_id", as: Int64.self) {
      try connection.query(
        // A reversed pack (refunded, charged back) takes nothing back.
        "UPDATE credit_packs SET credits_left = LEAST(credits, credits_left + 1) WHERE id = $1 AND reversed_at IS NULL",
        [pack])
    } else {
      try connection.query(
        """
        UPDATE credit_accounts SET plan_credits_left = LEAST(plan_credits_granted, plan_credits_left + 1),
          updated_at = now()
        WHERE tenant_id = $1
        """, [try row.decode("tenant_id", as: TenantID.self)])
    }
  }

  /// The tenant's credit row, locked, opened on first use and rolled into a new period (with the
  /// plan's monthly credits, not carried over) once the old one ended. A tenant with a subscription
  /// gets its new period when the renewal is paid, not before.
  private static func lockedAccount(_ connection: PostgresConnection, tenantID: TenantID, monthly: Int) throws -> (
    left: Int, granted: Int
  ) {
    let opened = try connection.query(
      """
      INSERT INTO credit_accounts (tenant_id, plan_credits_granted, plan_credits_left, period_start, period_end)
      VALUES ($1, $2, $2, now(), now() + interval '1 month') ON CONFLICT (tenant_id) DO NOTHING
      RETURNING period_start
      """, [tenantID, monthly])
    if let start = opened.first, monthly > 0 {
      try connection.query(
        """
        INSERT INTO credit_ledger (tenant_id, delta, bucket, reason, period_start)
        VALUES ($1, $2, 'plan', 'period_reset', $3::timestamptz) ON CONFLICT DO NOTHING
        """, [tenantID, monthly, start.text("period_start")])
    }
    let row = try connection.query(
      """
      SELECT plan_credits_left, plan_credits_granted,
        period_end <= now() AND NOT EXISTS (
          SELECT 1 FROM subscriptions WHERE tenant_id = $1 AND status <> 'canceled') AS ended
      FROM credit_accounts WHERE tenant_id = $1 FOR UPDATE
      """, [tenantID])[0]
    guard try row.decode("ended", as: Bool.self) else {
      return (try row.decode("plan_credits_left"), try row.decode("plan_credits_granted"))
    }
    // Whole months past the old end, so a tenant idle for a quarter lands in the current month.
    let renewed = try connection.query(
      """
      UPDATE credit_accounts SET
        period_start = period_end + make_interval(months => (
          (extract(year FROM age(now(), period_end)) * 12 + extract(month FROM age(now(), period_end)))::int)),
        period_end = period_end + make_interval(months => (
          (extract(year FROM age(now(), period_end)) * 12 + extract(month FROM age(now(), period_end)))::int + 1)),
        plan_credits_granted = $2, plan_credits_left = $2, low_alerted_at = NULL, updated_at = now()
      WHERE tenant_id = $1 RETURNING period_start
      """, [tenantID, monthly])
    if monthly > 0 {
      try connection.query(
        """
        INSERT INTO credit_ledger (tenant_id, delta, bucket, reason, period_start)
        VALUES ($1, $2, 'plan', 'period_reset', $3::timestamptz) ON CONFLICT DO NOTHING
        """, [tenantID, monthly, renewed[0].text("period_start")])
    }
    return (monthly, monthly)
  }

  /// Records `credits.low` once a period, when a tenant is down to 10% of what it had.
  private static func alertIfLow(_ connection: PostgresConnection, tenantID: TenantID) throws {
    let rows = try connection.query(
      """
      SELECT a.plan_credits_left + coalesce(sum(p.credits_left), 0)::int AS left_now,
             a.plan_credits_granted + coalesce(sum(p.credits) FILTER (WHERE p.credits_left > 0), 0)::int AS base,
             a.period_start::text AS period
      FROM credit_accounts a LEFT JOIN credit_packs p ON p.tenant_id = a.tenant_id AND p.credits_left > 0
      WHERE a.tenant_id = $1 AND a.low_alerted_at IS NULL
      GROUP BY a.tenant_id
      """, [tenantID])
    guard let row = rows.first else { return }
    let left: Int = try row.decode("left_now")
    let base: Int = try row.decode("base")
    guard base > 0, left * 10 <= base else { return }
    try recordEvent(
      connection, tenantID: tenantID, .creditsLow, ["credits_left": JSONValue(left), "of": JSONValue(base)],
      dedupeKey: row.text("period"))
    try connection.query("UPDATE credit_accounts SET low_alerted_at = now() WHERE tenant_id = $1", [tenantID])
  }

  /// Adds a bought pack (never expires; spent after the plan's credits) and resumes the campaigns
  /// that paused at zero credits. `reference` (the order or gateway payment) grants a purchase once.
  public func addCreditPack(
    tenant name: String, credits: Int, priceCents: Int = 0, reference: String? = nil
  ) async throws -> (CreditBalance, [CampaignLaunch]) {
    guard credits > 0 else { throw CreditError.badAmount(credits) }
    let tenant = try await self.tenant(named: name)
    let launches = try await pool.transaction { connection in
      try Self.grantPack(
        connection, tenantID: tenant.id, credits: credits, priceCents: priceCents, reference: reference
      ).resumed
    }
    return (try await creditBalance(tenantID: tenant.id), launches)
  }

  /// A pack's credits, in the caller's transaction: the pack, its ledger row and `credits.added`
  /// (with `extra` in its data), and the campaigns paused for want of credits resumed. Throws
  /// `duplicateReference` for a reference already granted, so a purchase is credited once.
  package static func grantPack(
    _ connection: PostgresConnection, tenantID: TenantID, credits: Int, priceCents: Int, reference: String?,
    extra: [String: JSONValue] = [:]
  ) throws -> (packID: Int64, resumed: [CampaignLaunch]) {
    guard credits > 0 else { throw CreditError.badAmount(credits) }
    if let reference,
      try !connection.query("SELECT 1 FROM credit_packs WHERE external_ref = $1", [reference]).isEmpty
    {
      throw CreditError.duplicateReference(reference)
    }
    // The unique external_ref still guards a race between two transactions.
    let packID: Int64 = try connection.query(
      """
      INSERT INTO credit_packs (tenant_id, credits, credits_left, price_cents, external_ref)
      VALUES ($1, $2, $2, $3, $4) RETURNING id
      """, [tenantID, credits, priceCents, reference]
    )[0].decode("id")
    try connection.query(
      """
      INSERT INTO credit_ledger (tenant_id, delta, bucket, credit_pack_id, reason)
      VALUES ($1, $2, 'pack', $3, 'pack_purchase')
      """, [tenantID, credits, packID])
    var data = extra
    data["credits"] = JSONValue(credits)
    if let reference { data["reference"] = .string(reference) }
    try Self.recordEvent(connection, tenantID: tenantID, .creditsAdded, data)
    return (packID, try Self.resume(connection, tenantID: tenantID, pausedFor: "no_credits"))
  }

  public func creditBalance(tenantID: TenantID) async throws -> CreditBalance {
    let rows = try await pool.query(
      """
      SELECT p.monthly_credits IS NULL AS unlimited,
        coalesce(a.plan_credits_left, p.monthly_credits) AS plan_credits_left,
        coalesce(a.plan_credits_granted, p.monthly_credits) AS plan_credits_granted,
        (SELECT coalesce(sum(credits_left), 0)::int FROM credit_packs WHERE tenant_id = t.id) AS pack_credits_left,
        a.period_end
      FROM tenants t JOIN plans p ON p.name = t.plan LEFT JOIN credit_accounts a ON a.tenant_id = t.id
      WHERE t.id = $1
      """, [tenantID])
    let row = rows[0]
    let unlimited: Bool = try row.decode("unlimited")
    return CreditBalance(
      planCreditsLeft: unlimited ? nil : try row.decodeIfPresent("plan_credits_left"),
      planCreditsGranted: unlimited ? nil : try row.decodeIfPresent("plan_credits_granted"),
      packCreditsLeft: try row.decode("pack_credits_left"),
      periodEnd: try row.decodeIfPresent("period_end"))
  }
}

/// One move of a tenant's credits: a period's grant or expiry, a pack bought, a message sent.
public struct CreditLedgerEntry: Codable, Sendable, Equatable {
  public var id: Int64
  public var delta: Int
  /// `plan` (the month's credits) or `pack`.
  public var bucket: String
  /// period_reset, period_expired, pack_purchase, pack_reversal (a refund or chargeback), message or adjustment.
  public var reason: String
  @ExplicitNull public var creditPackId: Int64?
  @ExplicitNull public var campaignMessageId: Int64?
  @ExplicitNull public var periodStart: Date?
  public var createdAt: Date
}

extension Store {
  /// The tenant's credit moves after `cursor` (an entry id; 0 for the first), oldest first.
  public func creditLedger(tenantID: TenantID, after cursor: Int64, limit: Int) async throws -> [CreditLedgerEntry] {
    try await pool.query(
      """
      SELECT id, delta, bucket, reason, credit_pack_id, campaign_message_id, period_start, created_at
      FROM credit_ledger WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3
      """, [tenantID, cursor, limit]
    ).rows.map { row in
      CreditLedgerEntry(
        id: try row.decode("id"), delta: try row.decode("delta"), bucket: try row.decode("bucket"),
        reason: try row.decode("reason"), creditPackId: try row.decodeIfPresent("credit_pack_id"),
        campaignMessageId: try row.decodeIfPresent("campaign_message_id"),
        periodStart: try row.decodeIfPresent("period_start"), createdAt: try row.decode("created_at"))
    }
  }
}
