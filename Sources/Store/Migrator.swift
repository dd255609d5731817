import Postgres

/// Applies the migrations a database lacks, each once, in order, each in its own transaction.
/// Several `whago migrate` at once (a deploy with replicas) serialize on an advisory lock: held by
/// the session for the whole run on a direct connection, and taken again by each migration's
/// transaction behind a transaction pooler, where a session lock would stay on whichever server
/// connection took it.
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

  static let createTable = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version int PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )
    """

  /// Brings the schema up to date. `progress` hears each migration before it runs.
  @discardableResult
  public func migrate(progress: @escaping @Sendable (Migration) -> Void = { _ in }) async throws -> Report {
    switch pool.pooler {
    case .none: try await migrateInSession(progress: progress)
    case .transaction: try await migrateByTransaction(progress: progress)
    }
  }

  /// The versions applied and their names, checked against this binary's: a newer database or a
  /// version of another name stops everything before anything changes.
  private static func applied(_ connection: PostgresConnection, migrations: [Migration]) throws -> [Int: String] {
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
    return known
  }

  /// On a connection of our own: the session's advisory lock is held from the first read to the
  /// last migration, so a second migrator finds everything applied when it gets the lock.
  private func migrateInSession(progress: @escaping @Sendable (Migration) -> Void) async throws -> Report {
    let migrations = self.migrations
    return try await pool.withConnection { connection in
      try connection.query("SELECT pg_advisory_lock($1)", [Self.lockID])
      defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [Self.lockID]) }
      try connection.query(Self.createTable)
      let known = try Self.applied(connection, migrations: migrations)
      let current = known.keys.max() ?? 0
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

  /// Behind a transaction pooler nothing may outlive a transaction, so every transaction takes the
  /// lock for itself (released at its COMMIT or ROLLBACK) and reads schema_migrations again under
  /// it: a migration another migrator applied in between is skipped, never applied twice. Two
  /// migrators may take turns, each applying some; every migration still runs once, in order.
  private func migrateByTransaction(progress: @escaping @Sendable (Migration) -> Void) async throws -> Report {
    let migrations = self.migrations
    let lockID = Self.lockID
    let known = try await pool.transaction { connection in
      try connection.query("SELECT pg_advisory_xact_lock($1)", [lockID])
      try connection.query(Self.createTable)
      return try Self.applied(connection, migrations: migrations)
    }
    var current = known.keys.max() ?? 0
    var from: Int?
    var done: [Migration] = []
    for migration in migrations where known[migration.version] == nil {
      // The version the database was at when this migration went in; nil if another migrator had
      // applied it already.
      let before: Int?
      do {
        before = try await pool.transaction { connection -> Int? in
          try connection.query("SELECT pg_advisory_xact_lock($1)", [lockID])
          let now = try Self.applied(connection, migrations: migrations)
          guard now[migration.version] == nil else { return nil }
          progress(migration)
          try connection.execute(script: migration.sql)
          try connection.query(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name])
          return now.keys.max() ?? 0
        }
      } catch let error as PostgresError {
        throw MigrationError.failed(version: migration.version, name: migration.name, error: error)
      }
      current = max(current, migration.version)
      guard let before else { continue }
      from = from ?? before
      done.append(migration)
    }
    return Report(from: from ?? current, to: current, applied: done)
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
