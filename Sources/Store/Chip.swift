import Foundation
import Postgres

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
}

public enum ChipError: Error, CustomStringConvertible, Equatable {
  case nameTaken(String)
  case sessionTaken(String)
  case overPlan(plan: String, limit: Int)

  public var description: String {
    switch self {
    case .nameTaken(let name): "a chip named '\(name)' already exists; pick another name"
    case .sessionTaken(let session):
      "WAHA session '\(session)' at that address is already registered (one session is one phone)"
    case .overPlan(let plan, let limit):
      "plan '\(plan)' allows \(limit) chip(s) and they are all registered; upgrade the plan or remove a chip"
    }
  }
}

extension Store {
  static let chipColumns =
    "id, name, waha_url, session, waha_api_key IS NOT NULL AS has_waha_api_key, status, status_changed_at, "
    + "stopped_working_at, created_at"

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
}

/// A chip as the health check needs it: where to ask, and with which key.
public struct ChipEndpoint: Sendable, Equatable {
  public var id: Int64
  public var wahaURL: String
  public var session: String
  public var wahaAPIKey: String?
}

extension Store {
  /// Every chip of every tenant, for the health check.
  public func chipEndpoints() async throws -> [ChipEndpoint] {
    try await pool.query("SELECT id, waha_url, session, waha_api_key FROM chips ORDER BY id").rows.map { row in
      ChipEndpoint(
        id: try row.decode("id"), wahaURL: try row.decode("waha_url"), session: try row.decode("session"),
        wahaAPIKey: try row.decodeIfPresent("waha_api_key"))
    }
  }

  /// Records the status WAHA reported for a chip, and when it stopped working.
  public func recordChipStatus(id: Int64, status: ChipStatus) async throws {
    _ = try await pool.withConnection { connection in try Self.setChipStatus(connection, id: id, status: status) }
  }

  /// The one place a chip's status is written (the health check and WAHA's webhooks both come here).
  package static func setChipStatus(_ connection: PostgresConnection, id: Int64, status: ChipStatus) throws {
    try connection.query(
      """
      UPDATE chips SET status = $2,
        status_changed_at = CASE WHEN status = $2 THEN status_changed_at ELSE now() END,
        stopped_working_at = CASE WHEN $2 = 'WORKING' THEN NULL ELSE coalesce(stopped_working_at, now()) END
      WHERE id = $1
      """, [id, status])
  }
}
