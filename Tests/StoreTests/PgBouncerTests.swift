import Foundation
import Postgres
import RedisClient
import Store
import TestSupport
import Testing

/// PostgreSQL through PgBouncer 1.18 in transaction pooling (`WHAGO_DATABASE_POOLER=transaction`):
/// each transaction may run on another server connection, so nothing may live in the session.
@Suite(
  .enabled(
    if: TestPgBouncer.isRunning, "WHAGO_TEST_PGBOUNCER_URL is not set: run with scripts/test, which starts PgBouncer"))
struct PgBouncerTests {
  /// A new database whose own defaults are neither UTC nor ISO: a server connection PgBouncer
  /// opens for it starts in São Paulo time and SQL dates, so a statement that sees UTC and ISO
  /// saw the settings our connection made, carried there by PgBouncer.
  func freshDatabase() async throws -> String {
    let name = "whago_pgb_\(UInt32.random(in: 0...UInt32.max))"
    let admin = try TestDatabase.pool(size: 1)
    defer { admin.close() }
    try await admin.query("CREATE DATABASE \(name)")
    try await admin.query("ALTER DATABASE \(name) SET TimeZone = 'America/Sao_Paulo'")
    try await admin.query("ALTER DATABASE \(name) SET DateStyle = 'SQL, DMY'")
    return name
  }

  func drop(_ name: String) async throws {
    let admin = try TestDatabase.pool(size: 1)
    defer { admin.close() }
    try await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
  }

  struct NotOneRow: Error, CustomStringConvertible {
    let count: Int
    var description: String { "expected one row, got \(count)" }
  }

  /// The one row a statement must return: a named statement run on a server connection where the
  /// name means another client's SQL returns what that SQL returns, perhaps nothing.
  static func one(_ rows: PostgresRows) throws -> PostgresRow {
    guard rows.count == 1, let row = rows.first else { throw NotOneRow(count: rows.count) }
    return row
  }

  struct Seen: Sendable {
    let k: Int
    let v: String
    let at: Date
    let zone: String
    let style: String
  }

  @Test func parameterizedStatementsRunUnnamedAcrossTransactionsThroughPgBouncer() async throws {
    let name = try await freshDatabase()
    let pool = try TestPgBouncer.pool(size: 4, database: name)
    try await pool.query("CREATE TABLE items (k int PRIMARY KEY, v text NOT NULL, at timestamptz NOT NULL)")
    let base = Date(timeIntervalSince1970: 1_780_000_000.125)
    let count = 200
    // Four connections, each running transactions one after another: PgBouncer gives each
    // transaction whichever server connection is free, and it opens several for them.
    let seen = try await withThrowingTaskGroup(of: Seen.self) { group in
      for k in 0..<count {
        group.addTask {
          try await pool.transaction { connection in
            try connection.query(
              "INSERT INTO items (k, v, at) VALUES ($1, $2, $3)", [k, "item \(k)", base.addingTimeInterval(Double(k))])
            let row = try Self.one(
              connection.query(
                """
                SELECT v, at, current_setting('TimeZone') AS zone, current_setting('DateStyle') AS style
                FROM items WHERE k = $1
                """, [k]))
            return Seen(
              k: k, v: try row.decode("v"), at: try row.decode("at"), zone: try row.decode("zone"),
              style: try row.decode("style"))
          }
        }
        // And single statements between them, with parameters, outside any transaction.
        if k % 10 == 0 {
          group.addTask {
            let row = try Self.one(
              await pool.query(
                "SELECT $1::int AS k, $2::text AS v, $3::timestamptz AS at, current_setting('TimeZone') AS zone, current_setting('DateStyle') AS style",
                [-k - 1, "loose \(k)", base]))
            return Seen(
              k: try row.decode("k"), v: try row.decode("v"), at: try row.decode("at"), zone: try row.decode("zone"),
              style: try row.decode("style"))
          }
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(seen.count == count + count / 10)
    for row in seen {
      #expect(row.zone == "UTC", "statement for \(row.k) ran in \(row.zone)")
      #expect(row.style.hasPrefix("ISO"), "statement for \(row.k) ran with DateStyle \(row.style)")
      if row.k >= 0 {
        #expect(row.v == "item \(row.k)")
        #expect(abs(row.at.timeIntervalSince(base) - Double(row.k)) < 0.001)
      } else {
        #expect(row.v == "loose \(-row.k - 1)")
        #expect(abs(row.at.timeIntervalSince(base)) < 0.001)
      }
    }
    let total = try await pool.query("SELECT count(*)::int AS n, sum(k)::int AS s FROM items")[0]
    #expect(try total.decode("n", as: Int.self) == count)
    #expect(try total.decode("s", as: Int.self) == count * (count - 1) / 2)
    // Nothing was prepared by name on the server connections PgBouncer shares.
    let named = try await pool.query("SELECT count(*)::int AS n FROM pg_prepared_statements")
    #expect(try named[0].decode("n", as: Int.self) == 0)
    await pool.shutdown()
    try await drop(name)
  }

  /// The default mode sets the session up in the startup packet's `options`, which PgBouncer 1.18
  /// refuses: every connection fails at once, with PgBouncer's reason, rather than later and at
  /// random when a named statement meets the wrong server connection.
  @Test func theSessionModeIsRefusedByPgBouncer() async throws {
    let pool = try TestPgBouncer.pool(size: 1, pooler: .none)
    defer { pool.close() }
    do {
      try await pool.query("SELECT $1::int AS n", [1])
      Issue.record("PgBouncer in transaction pooling took a connection with session options")
    } catch let error as PostgresError {
      #expect(error.kind == .connectFailed)
      #expect(error.message.contains("unsupported startup parameter: options"), "\(error)")
    }
    let result = try await Whago.run(
      ["migrate"], redis: try TestRedis.url.description,
      environment: ["WHAGO_DATABASE_URL": try TestPgBouncer.urlText])
    #expect(result.status != 0)
    #expect(result.output.contains("unsupported startup parameter: options"), "\(result.output)")
    #expect(!result.output.contains("whago:whago@"))
  }

  @Test func migratorsThroughPgBouncerApplyEachMigrationOnceAndLeaveNoLock() async throws {
    let name = try await freshDatabase()
    let pools = try (0..<3).map { _ in try TestPgBouncer.pool(size: 1, database: name) }
    let reports = try await withThrowingTaskGroup(of: Migrator.Report.self) { group in
      for pool in pools {
        group.addTask { try await Migrator(pool: pool).migrate() }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    let newest = Migration.all.last!.version
    // Each migration by exactly one of the three, and every one of them ends at the newest.
    #expect(reports.flatMap { $0.applied.map(\.version) }.sorted() == Migration.all.map(\.version))
    #expect(reports.allSatisfy { $0.to == newest })
    let rows = try await pools[0].query("SELECT count(*)::int AS n, max(version) AS v FROM schema_migrations")[0]
    #expect(try rows.decode("n", as: Int.self) == Migration.all.count)
    #expect(try rows.decode("v", as: Int.self) == newest)
    let again = try await Migrator(pool: pools[0]).migrate()
    #expect(again.applied.isEmpty)
    #expect(again.from == newest && again.to == newest)

    // The command, through PgBouncer: nothing left to apply, and its default plans seeded.
    let result = try await Whago.run(
      ["migrate"], redis: try TestRedis.url.description,
      environment: [
        "WHAGO_DATABASE_URL": try TestPgBouncer.urlText(database: name), "WHAGO_DATABASE_POOLER": "transaction",
      ])
    #expect(result.status == 0, "\(result.output)")
    #expect(result.output.contains("schema is up to date at version \(newest)"), "\(result.output)")
    #expect(!result.output.contains("whago:whago@"))
    #expect(try await Store(pool: pools[0]).plans().map(\.name) == ["free", "business", "enterprise"])
    try await Store(pool: pools[0]).checkSchema()

    // Every lock went with its transaction: none is held on any server connection PgBouncer keeps.
    let admin = try TestDatabase.pool(size: 1)
    defer { admin.close() }
    let locks = try await admin.query(
      """
      SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND d.datname = $1
      """, [name])
    #expect(try locks[0].decode("n", as: Int.self) == 0)
    for pool in pools { await pool.shutdown() }
    try await drop(name)
  }

  @Test func aPoolerSettingIsNoneOrTransaction() throws {
    #expect(try PostgresPooler(setting: nil) == PostgresPooler.none)
    #expect(try PostgresPooler(setting: "") == PostgresPooler.none)
    #expect(try PostgresPooler(setting: "none") == PostgresPooler.none)
    #expect(try PostgresPooler(setting: "Transaction") == .transaction)
    #expect(throws: PostgresError.self) { _ = try PostgresPooler(setting: "session") }
  }

  /// A value whago does not know stops serve and the workers at start, naming the accepted ones.
  @Test func anUnknownPoolerStopsServeAndWorkersAtStart() async throws {
    for command in [["serve", "--port", "0"], ["work", "--queues", "default"], ["migrate"]] {
      let result = try await Whago.run(
        command, redis: try TestRedis.url.description,
        environment: ["WHAGO_DATABASE_URL": try TestPgBouncer.urlText, "WHAGO_DATABASE_POOLER": "transactions"])
      #expect(result.status != 0, "\(command[0]) started with WHAGO_DATABASE_POOLER=transactions")
      #expect(result.output.contains("'transactions' is not one of: none, transaction"), "\(result.output)")
      #expect(result.output.contains("WHAGO_DATABASE_POOLER"), "\(result.output)")
    }
  }
}
