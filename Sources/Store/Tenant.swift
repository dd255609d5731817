import Campaigns
import Foundation
import Postgres

/// A WHAGO customer: whose jobs, chips and campaigns these are, on which plan, sending when.
public struct Tenant: Codable, Sendable, Equatable {
  public var id: TenantID
  public var name: String
  public var plan: String
  public var timezone: String
  public var windowStart: String
  public var windowEnd: String
  /// ISO weekdays the tenant sends on (1 = Monday … 7 = Sunday).
  public var windowDays: [Int]
  public var status: TenantStatus
  public var createdAt: Date

  /// The tenant's name as its queue lanes and buckets know it.
  public var lane: String { name }
}

/// The one way code refers to a tenant: its row id, typed, so it is never passed where a campaign's,
/// a chip's or an invoice's id (all `Int64` too) is expected. People and queue lanes use the
/// tenant's name (`Tenant.name`, `Tenant.lane`); code between the API and the database uses this.
public struct TenantID: RawRepresentable, Hashable, Sendable, Codable, PostgresEncodable, PostgresDecodable,
  CustomStringConvertible
{
  public var rawValue: Int64

  public init(rawValue: Int64) { self.rawValue = rawValue }
  public init(_ rawValue: Int64) { self.rawValue = rawValue }

  public var postgresText: String? { String(rawValue) }
  public init(postgresText text: String) throws(PostgresError) { rawValue = try Int64(postgresText: text) }

  public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(Int64.self) }
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }

  public var description: String { String(rawValue) }
}

/// Whether a tenant may submit work: suspension (an unpaid renewal) stops its API and its sends.
public enum TenantStatus: String, PostgresState, Sendable {
  case active
  case suspended
}

public enum TenantError: Error, CustomStringConvertible, Equatable {
  case invalidName(String)
  case exists(String)
  case notFound(String)
  case invalidTimezone(String)
  case invalidWindow(String)

  public var description: String {
    switch self {
    case .invalidName(let name):
      "invalid tenant name '\(name)': use 1-63 lowercase letters, digits, '_' or '-', starting with a letter or digit"
    case .exists(let name): "tenant '\(name)' already exists; change its plan with `whago tenant set-plan \(name) PLAN`"
    case .notFound(let name): "no tenant '\(name)'; list them with `whago tenant list`"
    case .invalidTimezone(let zone): "unknown timezone '\(zone)'; use an IANA name such as America/Sao_Paulo"
    case .invalidWindow(let reason): "invalid sending window: \(reason)"
    }
  }

  static func checkName(_ name: String) throws(TenantError) {
    let bytes = Array(name.utf8)
    func ok(_ c: UInt8, first: Bool) -> Bool {
      (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (!first && (c == 95 || c == 45))
    }
    guard !bytes.isEmpty, bytes.count <= 63, ok(bytes[0], first: true),
      bytes.dropFirst().allSatisfy({ ok($0, first: false) })
    else { throw .invalidName(name) }
  }
}

extension Store {
  static let tenantColumns =
    "id, name, plan, timezone, window_start::text AS window_start, window_end::text AS window_end, "
    + "window_days, status, created_at"

  public func createTenant(name: String, plan: String, timezone: String = "America/Sao_Paulo") async throws -> Tenant {
    try TenantError.checkName(name)
    guard TimeZone(identifier: timezone) != nil else { throw TenantError.invalidTimezone(timezone) }
    _ = try await self.plan(named: plan)
    do {
      let rows = try await pool.query(
        "INSERT INTO tenants (name, plan, timezone) VALUES ($1, $2, $3) RETURNING \(Self.tenantColumns)",
        [name, plan, timezone])
      return try rows[0].decode(Tenant.self)
    } catch let error as PostgresError where error.isUniqueViolation {
      throw TenantError.exists(name)
    }
  }

  public func tenant(named name: String) async throws -> Tenant {
    let rows = try await pool.query("SELECT \(Self.tenantColumns) FROM tenants WHERE name = $1", [name])
    guard let row = rows.first else { throw TenantError.notFound(name) }
    return try row.decode(Tenant.self)
  }

  public func tenants() async throws -> [Tenant] {
    try await pool.query("SELECT \(Self.tenantColumns) FROM tenants ORDER BY name").decode(Tenant.self)
  }

  /// The plan of each named tenant that exists, by name: what a page naming a few tenants needs,
  /// without reading them all.
  public func plans(ofTenants names: [String]) async throws -> [String: String] {
    guard !names.isEmpty else { return [:] }
    // As a JSON array, so no name can break the list's syntax.
    let list = String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
    let rows = try await pool.query(
      "SELECT name, plan FROM tenants WHERE name IN (SELECT jsonb_array_elements_text($1::jsonb))", [list])
    return Dictionary(
      try rows.rows.map { (try $0.decode("name", as: String.self), try $0.decode("plan", as: String.self)) },
      uniquingKeysWith: { first, _ in first })
  }

  /// Moves a tenant to another plan; its limits follow from the next request or token.
  @discardableResult
  public func setPlan(tenant name: String, plan: String) async throws -> PlanChange {
    _ = try await self.plan(named: plan)
    return try await pool.transaction { connection in
      let rows = try connection.query(
        "UPDATE tenants SET plan = $2 WHERE name = $1 RETURNING \(Self.tenantColumns)", [name, plan])
      guard let row = rows.first else { throw TenantError.notFound(name) }
      let tenant = try row.decode(Tenant.self)
      // A subscriber renews on its subscription's plan: change that too, or the next renewal
      // would quietly put the tenant back. A downgrade it had scheduled is replaced by this.
      let subscription = try connection.query(
        """
        UPDATE subscriptions SET plan = $2, next_plan = NULL, updated_at = now()
        WHERE tenant_id = $1 AND status <> 'canceled' RETURNING id
        """, [tenant.id, plan]
      ).first.map { try $0.decode("id", as: Int64.self) }
      try Self.enforceChipLimit(connection, tenantID: tenant.id)
      return PlanChange(tenant: tenant, subscriptionID: subscription)
    }
  }

  /// Sets the tenant's sending window, checked as `SendingWindow` reads it.
  @discardableResult
  public func setWindow(tenant name: String, start: String, end: String, days: [Int], timezone: String?) async throws
    -> Tenant
  {
    if let timezone, TimeZone(identifier: timezone) == nil { throw TenantError.invalidTimezone(timezone) }
    let current = try await self.tenant(named: name)
    do {
      _ = try SendingWindow(timeZone: timezone ?? current.timezone, start: start, end: end, days: Set(days))
    } catch {
      throw TenantError.invalidWindow("\(error)")
    }
    let rows = try await pool.query(
      """
      UPDATE tenants SET window_start = $2::time, window_end = $3::time, window_days = $4::int[],
        timezone = coalesce($5, timezone)
      WHERE name = $1 RETURNING \(Self.tenantColumns)
      """, [name, start, end, "{" + days.map(String.init).joined(separator: ",") + "}", timezone])
    return try rows[0].decode(Tenant.self)
  }

  /// A tenant with its plan, as one request needs them; nil when there is no such tenant.
  public func tenantAccess(named name: String) async throws -> TenantAccess? {
    let rows = try await pool.query(
      "SELECT \(Self.tenantColumns) FROM tenants WHERE name = $1", [name])
    guard let row = rows.first else { return nil }
    let tenant = try row.decode(Tenant.self)
    return TenantAccess(tenant: tenant, plan: try await plan(named: tenant.plan))
  }
}

/// A tenant and the plan it is on, read together for one request.
/// A tenant moved to another plan by an operator, and the subscription that now renews on it.
public struct PlanChange: Sendable, Equatable {
  public var tenant: Tenant
  /// Nil when the tenant has no live subscription (it is not billed).
  public var subscriptionID: Int64?
}

public struct TenantAccess: Sendable, Equatable {
  public var tenant: Tenant
  public var plan: Plan
}
