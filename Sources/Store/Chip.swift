import Foundation
import Postgres
import Wire

/// A tenant's WhatsApp number: one session on the tenant's WAHA, and the status sends gate on.
public struct Chip: Codable, Sendable, Equatable {
  public var id: Int64
  public var name: String
  public var wahaUrl: String
  public var session: String
  /// Never shown: only whether there is one.
  public var hasWahaApiKey: Bool
  /// STOPPED, STARTING, SCAN_QR_CODE, WORKING, FAILED or UNKNOWN (not asked yet).
  public var status: ChipStatus
  public var statusChangedAt: Date
  public var stoppedWorkingAt: Date?
  public var createdAt: Date
  /// Since when it sends nothing because the plan allows fewer chips (nil: it sends).
  public var readOnlySince: Date?
  /// whago runs its session in the tenant's container (false: the tenant's own WAHA).
  public var managed: Bool
  /// Where connecting it stands: container, proxy, session, done (nil for a tenant's own WAHA).
  public var provisioningStep: String?
  /// Why the last provisioning step failed, until one succeeds.
  public var lastError: String?
}

public enum ChipError: Error, CustomStringConvertible, Equatable {
  case nameTaken(String)
  case sessionTaken(String)
  case overPlan(plan: String, limit: Int)
  case notFound(Int64)
  /// A campaign or warm-up that has not finished sends through the chip.
  case inUse(chip: Int64, by: String)
  /// The tenant's WAHA container holds as many sessions as WAHA Plus takes.
  case containerFull(limit: Int)
  /// Every host port for containers is taken: no new tenant gets a container.
  case noContainerPort(ClosedRange<Int>)

  public var description: String {
    switch self {
    case .nameTaken(let name): "a chip named '\(name)' already exists; pick another name"
    case .sessionTaken(let session):
      "WAHA session '\(session)' at that address is already registered (one session is one phone)"
    case .overPlan(let plan, let limit):
      "plan '\(plan)' allows \(limit) chip(s) and they are all registered; upgrade the plan or remove a chip"
    case .notFound(let id): "no chip \(id); list them with GET /v1/chips"
    case .inUse(let chip, let user):
      "chip \(chip) sends for \(user), which has not finished; cancel or finish it first, then delete the chip"
    case .containerFull(let limit):
      "the tenant's WAHA container holds \(limit) sessions, as many as it takes; remove a chip first"
    case .noContainerPort(let ports):
      "every container port (\(ports.lowerBound)-\(ports.upperBound)) is taken; widen WHAGO_CONTAINER_PORTS or remove "
        + "unused containers (whago container list)"
    }
  }
}

extension Store {
  static let chipColumns =
    "id, name, waha_url, session, waha_api_key IS NOT NULL AS has_waha_api_key, status, status_changed_at, "
    + "stopped_working_at, created_at, read_only_since, container_id IS NOT NULL AS managed, provisioning_step, last_error"

  /// Registers a chip within the plan's chip limit. The tenant row is locked for the count and the
  /// insert, so two registrations at once cannot both take the last place.
  public func createChip(
    tenant: TenantAccess, name: String, wahaURL: String, session: String, wahaAPIKey: String?
  ) async throws -> Chip {
    let limit = tenant.plan.chips
    let planName = tenant.plan.name
    let tenantID = tenant.tenant.id
    do {
      return try await pool.transaction { connection in
        try connection.query("SELECT id FROM tenants WHERE id = $1 FOR UPDATE", [tenantID])
        if let limit {
          let count = try connection.query("SELECT count(*)::int AS n FROM chips WHERE tenant_id = $1", [tenantID])
          if try count[0].decode("n", as: Int.self) >= limit { throw ChipError.overPlan(plan: planName, limit: limit) }
        }
        let rows = try connection.query(
          """
          INSERT INTO chips (tenant_id, name, waha_url, session, waha_api_key) VALUES ($1, $2, $3, $4, $5)
          RETURNING \(Self.chipColumns)
          """, [tenantID, name, wahaURL, session, wahaAPIKey])
        return try rows[0].decode(Chip.self)
      }
    } catch let error as PostgresError where error.isUniqueViolation {
      if error.constraint?.contains("name") == true { throw ChipError.nameTaken(name) }
      throw ChipError.sessionTaken(session)
    }
  }

  /// The tenant's chips, by name.
  public func chips(tenantID: TenantID) async throws -> [Chip] {
    try await pool.query("SELECT \(Self.chipColumns) FROM chips WHERE tenant_id = $1 ORDER BY name, id", [tenantID])
      .decode(Chip.self)
  }

  /// One of the tenant's chips; nil for another tenant's.
  public func chip(tenantID: TenantID, id: Int64) async throws -> Chip? {
    try await pool.query("SELECT \(Self.chipColumns) FROM chips WHERE tenant_id = $1 AND id = $2", [tenantID, id])
      .decode(Chip.self).first
  }

  /// Renames one of the tenant's chips (names are unique per tenant).
  public func renameChip(tenantID: TenantID, id: Int64, name: String) async throws -> Chip {
    let rows: [Chip]
    do {
      rows = try await pool.query(
        "UPDATE chips SET name = $3 WHERE tenant_id = $1 AND id = $2 RETURNING \(Self.chipColumns)",
        [tenantID, id, name]
      ).decode(Chip.self)
    } catch let error as PostgresError where error.isUniqueViolation {
      throw ChipError.nameTaken(name)
    }
    guard let chip = rows.first else { throw ChipError.notFound(id) }
    return chip
  }

  /// Deletes one of the tenant's chips, unless a campaign or warm-up that has not finished sends
  /// through it (the first is named). Finished campaigns keep their messages; the chip is gone
  /// from them.
  ///
  /// A chip in the tenant's container leaves its session behind, for `chip.release` to log out and
  /// delete (returned); the container, once its last chip is gone, starts its grace period.
  @discardableResult
  public func deleteChip(tenantID: TenantID, id: Int64) async throws -> ReleasedSession? {
    try await pool.transaction { connection in
      guard
        let chip = try connection.query(
          "SELECT session, container_id FROM chips WHERE tenant_id = $1 AND id = $2 FOR UPDATE", [tenantID, id]
        ).first
      else { throw ChipError.notFound(id) }
      let users = try connection.query(
        """
        SELECT 'campaign ' || c.id AS user FROM campaign_chips cc JOIN campaigns c ON c.id = cc.campaign_id
        WHERE cc.chip_id = $1 AND c.status IN ('draft', 'scheduled', 'running', 'paused')
        UNION ALL
        SELECT 'warm-up ' || m.id FROM maturation_chips mc JOIN maturation_programs m ON m.id = mc.program_id
        WHERE mc.chip_id = $1 AND m.status IN ('scheduled', 'active', 'paused')
        LIMIT 1
        """, [id])
      if let user = users.first?.text("user") { throw ChipError.inUse(chip: id, by: user) }
      try connection.query("DELETE FROM chips WHERE id = $1", [id])
      guard let containerID: Int64 = try chip.decodeIfPresent("container_id") else { return nil }
      try connection.query(
        """
        UPDATE waha_containers SET empty_since = now()
        WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM chips WHERE container_id = $1)
        """, [containerID])
      return ReleasedSession(tenantID: tenantID, session: try chip.decode("session"))
    }
  }
}

/// A deleted chip's WAHA session, still to be logged out and deleted in the tenant's container.
public struct ReleasedSession: Sendable, Equatable {
  public var tenantID: TenantID
  public var session: String
}

/// A chip as the health check needs it: where to ask, and with which key.
public struct ChipEndpoint: Sendable, Equatable {
  public var id: Int64
  public var wahaURL: String
  public var session: String
  public var wahaAPIKey: String?
  /// Its session runs in whago's own container.
  public var managed = false
  /// whago is still creating its session: no status to check yet.
  public var provisioning = false
}

extension Store {
  static let endpointColumns =
    "id, waha_url, session, waha_api_key, container_id IS NOT NULL AS managed, "
    + "coalesce(provisioning_step <> 'done', false) AS provisioning"

  static func endpoint(_ row: PostgresRow) throws -> ChipEndpoint {
    ChipEndpoint(
      id: try row.decode("id"), wahaURL: try row.decode("waha_url"), session: try row.decode("session"),
      wahaAPIKey: try row.decodeIfPresent("waha_api_key"), managed: try row.decode("managed"),
      provisioning: try row.decode("provisioning"))
  }

  /// Every chip of every tenant, for the health check.
  public func chipEndpoints() async throws -> [ChipEndpoint] {
    try await pool.query("SELECT \(Self.endpointColumns) FROM chips ORDER BY id").rows.map(Self.endpoint)
  }

  /// Every chip's id, for the health check's fan-out.
  public func chipIDs() async throws -> [Int64] {
    try await pool.query("SELECT id FROM chips ORDER BY id").rows.map { try $0.decode("id") }
  }

  /// Where one chip's WAHA is, or nil once the chip is gone.
  public func chipEndpoint(id: Int64) async throws -> ChipEndpoint? {
    try await pool.query("SELECT \(Self.endpointColumns) FROM chips WHERE id = $1", [id]).rows.first.map(Self.endpoint)
  }

  /// Records the status WAHA reported for a chip, and when it stopped working.
  ///
  /// Most reports (every health check of a chip that keeps working) change no status: those are one
  /// autocommit statement. The row lock it takes and READ COMMITTED's recheck of `status = $2` on
  /// the row's latest version send a change committed meanwhile to the transaction that records it.
  public func recordChipStatus(id: Int64, status: ChipStatus) async throws {
    let unchanged = try await pool.query(
      "UPDATE chips SET \(Self.reportedColumns) WHERE id = $1 AND status = $2 RETURNING id", [id, status])
    guard unchanged.rows.isEmpty else { return }
    try await pool.transaction { connection in try Self.setChipStatus(connection, id: id, status: status) }
  }

  /// What any report of status `$2` writes besides the status: WAHA answered, so the count of
  /// unreachable checks starts over; WORKING clears what a chip that stopped had collected.
  private static let reportedColumns = """
    unreachable_checks = 0,
    restart_attempts = CASE WHEN $2 = 'WORKING' THEN 0 ELSE restart_attempts END,
    needs_attention_since = CASE WHEN $2 = 'WORKING' THEN NULL ELSE needs_attention_since END,
    stopped_working_at = CASE WHEN $2 = 'WORKING' THEN NULL ELSE coalesce(stopped_working_at, now()) END
    """

  /// The one place a chip's status is written (the health check and WAHA's webhooks both come here).
  /// A change the tenant cares about is an event in the same transaction: working, failed, or
  /// logged out (asking for a QR code again after it had worked). WAHA answered, so the count of
  /// unreachable checks starts over.
  ///
  /// Campaigns follow their chips in the same transaction: when the last WORKING chip of a
  /// running campaign stops working, the campaign pauses (`no_working_chips`) instead of waiting
  /// with every sender asleep; when one of its chips works again, it resumes at a new generation,
  /// which `campaigns.sweep` launches within a minute. A campaign paused for another reason
  /// (manual, credits, suspension) is left alone.
  package static func setChipStatus(_ connection: PostgresConnection, id: Int64, status: ChipStatus) throws {
    let rows = try connection.query(
      """
      WITH old AS (SELECT status FROM chips WHERE id = $1 FOR UPDATE)
      UPDATE chips c SET status = $2, \(reportedColumns),
        status_changed_at = CASE WHEN c.status = $2 THEN c.status_changed_at ELSE now() END
      FROM old WHERE c.id = $1
      RETURNING old.status AS was, c.tenant_id
      """, [id, status])
    guard let row = rows.first else { return }
    let was: ChipStatus = try row.decode("was")
    guard was != status else { return }
    let tenantID: TenantID = try row.decode("tenant_id")
    let type: EventType? =
      switch status {
      case .working: .chipWorking
      case .failed: .chipFailed
      case .scanQRCode where was == .working: .chipLoggedOut
      default: nil
      }
    if let type {
      try recordEvent(
        connection, tenantID: tenantID, type, subject: .chip(id),
        ["status": .string(status.rawValue), "was": .string(was.rawValue)])
    }
    if status == .working {
      try resumeCampaignsWithWorkingChips(connection, tenantID: tenantID, chips: [id], data: ["chip_id": .int(id)])
    } else if was == .working {
      try pauseCampaignsWithoutWorkingChips(connection, tenantID: tenantID, chips: [id], data: ["chip_id": .int(id)])
    }
  }

  /// Records a health check that could not reach the chip's WAHA (its status stays as it was).
  /// At the `threshold`-th in a row, and only then, `chip.unreachable` tells the tenant. Returns
  /// the count.
  @discardableResult
  public func recordChipUnreachable(id: Int64, error: String, threshold: Int = 3) async throws -> Int {
    try await pool.transaction { connection in
      guard
        let row = try connection.query(
          "UPDATE chips SET unreachable_checks = unreachable_checks + 1 WHERE id = $1 RETURNING unreachable_checks, tenant_id",
          [id]
        ).first
      else { return 0 }
      let checks: Int = try row.decode("unreachable_checks")
      if checks == threshold {
        try Self.recordEvent(
          connection, tenantID: try row.decode("tenant_id"), .chipUnreachable, subject: .chip(id),
          ["checks": .int(Int64(checks)), "error": .string(String(error.prefix(300)))])
      }
      return checks
    }
  }
}

/// How many chips one tenant has in one status.
public struct ChipCount: Sendable, Equatable {
  public var tenant: String
  public var status: ChipStatus
  public var count: Int
}

extension Store {
  /// Chips by tenant and status, for the metrics an operator alerts on (chips failing per tenant).
  public func chipCounts() async throws -> [ChipCount] {
    try await pool.query(
      """
      SELECT t.name AS tenant, c.status, count(*)::int AS count
      FROM chips c JOIN tenants t ON t.id = c.tenant_id GROUP BY t.name, c.status
      """
    ).rows.map {
      ChipCount(tenant: try $0.decode("tenant"), status: try $0.decode("status"), count: try $0.decode("count"))
    }
  }
}
