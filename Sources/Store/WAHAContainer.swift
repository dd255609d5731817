import Foundation
import Postgres

/// A tenant's WAHA container as whago keeps it: the host port it owns, the API key its WAHA
/// demands, and Docker's id once created. One per tenant, so a tenant's numbers share one
/// WhatsApp engine and one tenant's crash never takes another's sessions with it.
public struct WAHAContainer: Codable, Sendable, Equatable {
  public var id: Int64
  public var tenantId: TenantID
  public var tenantName: String
  /// `waha_plus_user_<tenant uuid>`, the name Docker knows it by, so a second create is refused by
  /// Docker itself (409) whatever whago's state says.
  public var name: String
  public var hostPort: Int
  public var apiKey: String
  public var dockerId: String?
  public var createdAt: Date
  public var emptySince: Date?
  public var sessions: Int
}

/// Where containers go and how many sessions each takes; the same on serve (which allocates) and on
/// workers (which create).
public struct ContainerSettings: Sendable, Equatable {
  /// Host ports containers are published on, one per tenant (WHAGO's PRD: 3100–3199).
  public var ports: ClosedRange<Int> = 3100...3199
  /// The address workers and serve reach the published ports at.
  public var wahaHost = "127.0.0.1"
  /// WAHA Plus takes 10 sessions per container.
  public var maxSessions = 10

  public init() {}

  public func url(port: Int) -> String { "http://\(wahaHost):\(port)" }
}

extension Store {
  static let containerColumns =
    "w.id, w.tenant_id, t.name AS tenant_name, w.name, w.host_port, w.api_key, w.docker_id, w.created_at, "
    + "w.empty_since, (SELECT count(*)::int FROM chips c WHERE c.container_id = w.id) AS sessions"
  /// Every container query starts here: the row, its tenant's name and its session count.
  static let containerSelect =
    "SELECT \(containerColumns) FROM waha_containers w JOIN tenants t ON t.id = w.tenant_id"

  /// Registers a chip that whago connects itself: its tenant's container (allocated here, with a
  /// free host port, when it is the first), a `chip_<uuid>` session on it, and the first step of
  /// provisioning. One transaction with the tenant row locked: two chips created at once share one
  /// container, and two tenants racing for the last port cannot both get it (the unique port
  /// refuses one; it retries on the next free port).
  public func createManagedChip(tenant: TenantAccess, name: String, settings: ContainerSettings) async throws -> Chip {
    var attempt = 0
    while true {
      attempt += 1
      do {
        return try await createManagedChipOnce(tenant: tenant, name: name, settings: settings)
      } catch let error as PostgresError where error.isUniqueViolation && error.constraint?.contains("port") == true {
        if attempt >= 5 { throw error }
      }
    }
  }

  private func createManagedChipOnce(tenant: TenantAccess, name: String, settings: ContainerSettings) async throws
    -> Chip
  {
    let limit = tenant.plan.chips
    let planName = tenant.plan.name
    let tenantID = tenant.tenant.id
    do {
      return try await pool.transaction { connection in
        guard
          let tenantRow = try connection.query(
            "SELECT uuid::text AS uuid FROM tenants WHERE id = $1 FOR UPDATE", [tenantID]
          )
          .first
        else { throw ChipError.notFound(0) }
        if let limit {
          let count = try connection.query("SELECT count(*)::int AS n FROM chips WHERE tenant_id = $1", [tenantID])
          if try count[0].decode("n", as: Int.self) >= limit { throw ChipError.overPlan(plan: planName, limit: limit) }
        }
        var container = try connection.query(
          // Locked: the monitor's removal of an empty container waits, then sees this chip.
          "SELECT id, host_port, api_key FROM waha_containers WHERE tenant_id = $1 FOR UPDATE", [tenantID]
        ).first
        if container == nil {
          container = try connection.query(
            """
            INSERT INTO waha_containers (tenant_id, name, host_port, api_key)
            SELECT $1, $2, p, $3 FROM generate_series($4::int, $5::int) p
            WHERE NOT EXISTS (SELECT 1 FROM waha_containers w WHERE w.host_port = p) ORDER BY p LIMIT 1
            RETURNING id, host_port, api_key
            """,
            [
              tenantID, "waha_plus_user_\(try tenantRow.decode("uuid", as: String.self))", Self.newContainerKey(),
              settings.ports.lowerBound, settings.ports.upperBound,
            ]
          ).first
        }
        guard let container else { throw ChipError.noContainerPort(settings.ports) }
        let containerID: Int64 = try container.decode("id")
        let sessions = try connection.query(
          "SELECT count(*)::int AS n FROM chips WHERE container_id = $1", [containerID])[0].decode("n", as: Int.self)
        if sessions >= settings.maxSessions { throw ChipError.containerFull(limit: settings.maxSessions) }
        try connection.query("UPDATE waha_containers SET empty_since = NULL WHERE id = $1", [containerID])
        let rows = try connection.query(
          """
          WITH u AS (SELECT gen_random_uuid() AS uuid)
          INSERT INTO chips (tenant_id, name, waha_url, session, waha_api_key, uuid, container_id, provisioning_step)
          SELECT $1, $2, $3, 'chip_' || u.uuid::text, $4, u.uuid, $5, 'container' FROM u
          RETURNING \(Self.chipColumns)
          """,
          [
            tenantID, name, settings.url(port: try container.decode("host_port")),
            try container.decode("api_key", as: String.self), containerID,
          ])
        return try rows[0].decode(Chip.self)
      }
    } catch let error as PostgresError where error.isUniqueViolation && error.constraint?.contains("name") == true {
      throw ChipError.nameTaken(name)
    }
  }

  /// 32 random bytes as hex: a WAHA key no one guesses (WHAGO's own `waha_key_<user id>` was).
  static func newContainerKey() -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
  }

  public func container(tenantID: TenantID) async throws -> WAHAContainer? {
    try await pool.query(
      "\(Self.containerSelect) WHERE w.tenant_id = $1",
      [tenantID]
    ).decode(WAHAContainer.self).first
  }

  public func containers() async throws -> [WAHAContainer] {
    try await pool.query(
      "\(Self.containerSelect) ORDER BY w.host_port"
    ).decode(WAHAContainer.self)
  }

  /// Docker's id for the container, once created (or found by name after a crash between create and record).
  public func recordContainerDockerID(id: Int64, dockerID: String) async throws {
    try await pool.query("UPDATE waha_containers SET docker_id = $2 WHERE id = $1", [id, dockerID])
  }
}
