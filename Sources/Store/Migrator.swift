import Postgres

/// Applies the migrations a database lacks, each once, in order, each in its own transaction.
/// Several `whago migrate` at once (a deploy with replicas) serialize on an advisory lock.
public struct Migrator: Sendable {
  public let pool: PostgresPool
  public let migrations: [Migration]

  public init(pool: PostgresPool, migrations: [Migration] = Migration.all) {
    self.pool = pool
    self.migrations = migrations
  }

  /// An arbitrary constant: the advisory lock all migrators of this schema agree on.
  static let lockID: Int64 = 0x7768_6167_6f5f_6d69

  public struct Report: Sendable {
    /// The schema version before and after.
    public var from: Int
    public var to: Int
    public var applied: [Migration]
  }

  /// The version the database is at (0 for an empty one).
  public func currentVersion() async throws -> Int {
    try await pool.withConnection { connection in
      let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present")
      guard try exists.first?.decode("present", as: Bool.self) == true else { return 0 }
      return try connection.query("SELECT coalesce(max(version), 0) AS version FROM schema_migrations")
        .first?.decode("version", as: Int.self) ?? 0
    }
  }

  /// Brings the schema up to date. `progress` hears each migration before it runs.
  @discardableResult
  public func migrate(progress: @escaping @Sendable (Migration) -> Void = { _ in }) async throws -> Report {
    let migrations = self.migrations
    return try await pool.withConnection { connection in
      try connection.query("SELECT pg_advisory_lock($1)", [Self.lockID])
      defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [Self.lockID]) }
      try connection.query(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
          version int PRIMARY KEY,
          name text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )
        """)
      let applied = try connection.query("SELECT version, name FROM schema_migrations ORDER BY version")
      var known: [Int: String] = [:]
      for row in applied.rows {
        known[try row.decode("version", as: Int.self)] = try row.decode("name", as: String.self)
      }
      let newest = migrations.last?.version ?? 0
      let current = known.keys.max() ?? 0
      if current > newest {
        throw MigrationError.databaseIsNewer(database: current, binary: newest)
      }
      for migration in migrations {
        if let name = known[migration.version], name != migration.name {
          throw MigrationError.mismatch(version: migration.version, database: name, binary: migration.name)
        }
      }
      var done: [Migration] = []
      for migration in migrations where known[migration.version] == nil {
        progress(migration)
        do {
          try connection.transaction { connection in
            try connection.execute(script: migration.sql)
            try connection.query(
              "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name])
          }
        } catch let error as PostgresError {
          throw MigrationError.failed(version: migration.version, name: migration.name, error: error)
        }
        done.append(migration)
      }
      return Report(from: current, to: max(current, done.last?.version ?? current), applied: done)
    }
  }
}

public enum MigrationError: Error, CustomStringConvertible {
  case databaseIsNewer(database: Int, binary: Int)
  case mismatch(version: Int, database: String, binary: String)
  case failed(version: Int, name: String, error: PostgresError)
  case notMigrated(database: Int, binary: Int)

  public var description: String {
    switch self {
    case .databaseIsNewer(let database, let binary):
      "the database schema is at version \(database), newer than this whago (\(binary)): "
        + "run a whago at least as new as the one that migrated it; nothing was changed"
    case .mismatch(let version, let database, let binary):
      "migration \(version) in the database is '\(database)' but this whago calls it '\(binary)': "
        + "the database was migrated by a different build; nothing was changed"
    case .failed(let version, let name, let error):
      "migration \(version) (\(name)) failed and was rolled back: \(error)"
    case .notMigrated(let database, let binary):
      "the database schema is at version \(database) but this whago needs \(binary): run `whago migrate` first"
    }
  }
}
