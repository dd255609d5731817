import Postgres

/// The system of record in PostgreSQL. This core holds plans, tenants, API keys and chips; the
/// campaign, billing and maturation modules extend it with their own SQL beside their types.
public final class Store: Sendable {
  public let pool: PostgresPool

  public init(pool: PostgresPool) {
    self.pool = pool
  }

  /// Throws unless the database carries exactly the schema this binary was built for.
  public func checkSchema() async throws {
    let current = try await Migrator(pool: pool).currentVersion()
    let needed = Migration.all.last?.version ?? 0
    if current > needed { throw MigrationError.databaseIsNewer(database: current, binary: needed) }
    if current < needed { throw MigrationError.notMigrated(database: current, binary: needed) }
  }
}
