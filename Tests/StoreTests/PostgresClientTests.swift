import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing
import Wire

@Suite struct PostgresClientTests {
  @Test func parametersAreNeverSpliced() async throws {
    let pool = try TestDatabase.pool()
    defer { pool.close() }
    let hostile = "x'); DROP TABLE plans; --"
    let rows = try await pool.query("SELECT $1::text AS value, length($1::text) AS n", [hostile])
    #expect(try rows[0].decode("value", as: String.self) == hostile)
    #expect(try rows[0].decode("n", as: Int.self) == hostile.count)
  }

  @Test func valuesRoundTrip() async throws {
    let pool = try TestDatabase.pool()
    defer { pool.close() }
    let when = Date(timeIntervalSince1970: 1_795_000_000.123)
    let bytes = Data([0, 1, 0xfe, 0xff, 0x7f])
    let rows = try await pool.query(
      "SELECT $1::timestamptz AS t, $2::bytea AS b, $3::boolean AS f, $4::int[] AS a, $5::int AS n, $6::bigint AS big, $7::float8 AS d",
      [when, bytes, false, [3, 1, 2], SQLNull(), Int64.max, 2.5])
    let row = rows[0]
    #expect(try row.decode("t", as: Date.self).timeIntervalSince1970 == when.timeIntervalSince1970)
    #expect(try row.decode("b", as: Data.self) == bytes)
    #expect(try row.decode("f", as: Bool.self) == false)
    #expect(try row.decode("a", as: [Int].self) == [3, 1, 2])
    #expect(try row.decodeIfPresent("n", as: Int.self) == nil)
    #expect(try row.decode("big", as: Int64.self) == Int64.max)
    #expect(try row.decode("d", as: Double.self) == 2.5)
    #expect(throws: PostgresError.self) { try row.decode("n", as: Int.self) }
    #expect(throws: PostgresError.self) { try row.decode("missing", as: Int.self) }
  }

  /// Any time an RFC 3339 string can name round-trips, years before 1000 and before 1 included
  /// (a campaign's start_at of `0028-04-05T09:32:40-04:25` once reached PostgreSQL as `28-04-…`,
  /// which it refused, and the API answered 503).
  @Test func timestampsOfEveryYearRoundTrip() async throws {
    let pool = try TestDatabase.pool()
    defer { pool.close() }
    for text in [
      "0028-04-05T09:32:40.250-04:25", "0000-01-01T00:00:00Z", "0001-03-01T12:00:00Z", "0999-12-31T23:59:59.999Z",
      "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
    ] {
      let when = try #require(WireJSON.date(text))
      let rows = try await pool.query(
        "SELECT $1::timestamptz AS t, to_char($1::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS BC') AS shown",
        [when])
      #expect(try rows[0].decode("t", as: Date.self) == when, "\(text)")
      let shown = try rows[0].decode("shown", as: String.self)
      #expect(shown.hasSuffix(text.hasPrefix("0000") ? " BC" : " AD"), "\(text): \(shown)")
    }
  }

  @Test func timestampsFromTheServerParseInEveryForm() async throws {
    let pool = try TestDatabase.pool()
    defer { pool.close() }
    let rows = try await pool.query(
      """
      SELECT '2026-11-29 04:44:37+00'::timestamptz AS whole, '2026-11-29 04:44:37.5+00'::timestamptz AS half,
             extract(epoch FROM '2026-11-29 04:44:37.5+00'::timestamptz)::float8 AS epoch
      """)
    let epoch = try rows[0].decode("epoch", as: Double.self)
    #expect(try rows[0].decode("half", as: Date.self).timeIntervalSince1970 == epoch)
    #expect(try rows[0].decode("whole", as: Date.self).timeIntervalSince1970 == epoch - 0.5)
  }

  @Test func serverErrorsCarryTheirSQLState() async throws {
    let pool = try TestDatabase.pool()
    defer { pool.close() }
    let table = "t_err_\(UInt32.random(in: 0...UInt32.max))"
    try await pool.query("CREATE TABLE \(table) (k int PRIMARY KEY)")
    do {
      try await pool.query("INSERT INTO \(table) VALUES ($1)", [1])
      do {
        try await pool.query("INSERT INTO \(table) VALUES ($1)", [1])
        Issue.record("a duplicate key was accepted")
      } catch let error as PostgresError {
        #expect(error.isUniqueViolation)
        #expect(error.constraint == "\(table)_pkey")
      }
      try await pool.query("DROP TABLE \(table)")
    } catch {
      // Dropped, and awaited, before the error goes on: no table of this test outlives it.
      _ = try? await pool.query("DROP TABLE IF EXISTS \(table)")
      throw error
    }
  }

  @Test func aFailedTransactionLeavesNothingBehind() async throws {
    let pool = try TestDatabase.pool()
    defer { pool.close() }
    let table = "t_tx_\(UInt32.random(in: 0...UInt32.max))"
    try await pool.query("CREATE TABLE \(table) (k int PRIMARY KEY)")
    struct Boom: Error {}
    await #expect(throws: Boom.self) {
      try await pool.transaction { connection in
        try connection.query("INSERT INTO \(table) VALUES (1), (2)")
        throw Boom()
      }
    }
    let count = try await pool.query("SELECT count(*)::int AS n FROM \(table)")
    #expect(try count[0].decode("n", as: Int.self) == 0)
    try await pool.query("DROP TABLE \(table)")
  }

  /// Two transactions that lock two rows in opposite orders deadlock; the server aborts one, and
  /// `transaction` runs it again, so both callers succeed and each row holds both increments.
  @Test func aDeadlockVictimIsRunAgain() async throws {
    let pool = try TestDatabase.pool(size: 2)
    defer { pool.close() }
    let table = "t_deadlock_\(UInt32.random(in: 0...UInt32.max))"
    try await pool.query("CREATE TABLE \(table) (k int PRIMARY KEY, n int NOT NULL)")
    try await pool.query("INSERT INTO \(table) VALUES (1, 0), (2, 0)")
    final class Runs: Sendable { let counts = Mutex([0, 0]) }
    let runs = Runs()
    // Each first run holds its first row until the other holds its own: then each asks for the
    // other's row, and the server finds the cycle (deadlock_timeout, 1 s by default).
    let holding = [DispatchSemaphore(value: 0), DispatchSemaphore(value: 0)]
    func crossing(_ me: Int) -> @Sendable (PostgresConnection) throws -> Void {
      { connection in
        let run = runs.counts.withLock { runs in
          runs[me] += 1
          return runs[me]
        }
        let (first, second) = me == 0 ? (1, 2) : (2, 1)
        try connection.query("UPDATE \(table) SET n = n + 1 WHERE k = $1", [first])
        if run == 1 {
          holding[me].signal()
          _ = holding[1 - me].wait(timeout: .now() + 10)
        }
        try connection.query("UPDATE \(table) SET n = n + 1 WHERE k = $1", [second])
      }
    }
    async let a: Void = pool.transaction(crossing(0))
    async let b: Void = pool.transaction(crossing(1))
    _ = try await (a, b)
    let counts = try await pool.query("SELECT n FROM \(table) ORDER BY k").rows.map { try $0.decode("n", as: Int.self) }
    #expect(counts == [2, 2])
    #expect(runs.counts.withLock { $0.reduce(0, +) } == 3)  // one of the two ran twice
    #expect(pool.conflictsRetried == 1)
    try await pool.query("DROP TABLE \(table)")
  }

  /// A table changed under a prepared statement (a migration while workers run): inside a
  /// transaction the statement fails once (the transaction is aborted and rolls back), and the
  /// connection is not poisoned: that statement, and every other, prepares and runs again after.
  @Test func aTableChangedUnderAPreparedStatementDoesNotPoisonTheConnection() async throws {
    var options = PostgresPool.Options()
    options.size = 1
    let pool = PostgresPool(url: try PostgresURL(try TestDatabase.urlText), options: options)
    defer { pool.close() }
    let table = "t_prep_\(UInt32.random(in: 0...UInt32.max))"
    try await pool.query("CREATE TABLE \(table) (k int PRIMARY KEY, v int)")
    try await pool.query("INSERT INTO \(table) VALUES (1, 10), (2, 20)")
    let select = "SELECT v FROM \(table) WHERE k = $1"
    #expect(try await pool.query(select, [1])[0].decode("v", as: Int.self) == 10)
    #expect(try await pool.query("SELECT k FROM \(table) WHERE v = $1", [20])[0].decode("k", as: Int.self) == 2)

    try await pool.query("ALTER TABLE \(table) ALTER COLUMN v TYPE bigint")
    do {
      _ = try await pool.transaction { connection in try connection.query(select, [1]) }
      Issue.record("a statement prepared for an int column ran unchanged on a bigint one")
    } catch let error as PostgresError {
      #expect(error.sqlState == "0A000", "\(error)")
    }
    // The same statement, another one prepared before the change, and new ones: all run.
    #expect(try await pool.query(select, [2])[0].decode("v", as: Int64.self) == 20)
    #expect(try await pool.query("SELECT k FROM \(table) WHERE v = $1", [10])[0].decode("k", as: Int.self) == 1)
    #expect(
      try await pool.query("SELECT count(*)::int AS n FROM \(table) WHERE k > $1", [0])[0].decode("n", as: Int.self)
        == 2)
    #expect(
      try await pool.transaction { connection in try connection.query(select, [1])[0].decode("v", as: Int64.self) }
        == 10)

    // Outside a transaction the change is absorbed at once: the statement runs anew.
    try await pool.query("ALTER TABLE \(table) ALTER COLUMN v TYPE int")
    #expect(try await pool.query(select, [1])[0].decode("v", as: Int.self) == 10)
    try await pool.query("DROP TABLE \(table)")
  }

  /// The server ends our session (as a restart or failover would); the next request connects again.
  @Test func aBrokenConnectionIsReplaced() async throws {
    var options = PostgresPool.Options()
    options.size = 1
    let pool = PostgresPool(url: try PostgresURL(try TestDatabase.urlText), options: options)
    defer { pool.close() }
    let first = try await pool.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self)
    let admin = try TestDatabase.pool(size: 1)
    defer { admin.close() }
    try await admin.query("SELECT pg_terminate_backend($1)", [first])
    // The request that meets the dead socket fails as lost (it cannot know whether it ran); the next one works.
    var second: Int?
    for _ in 0..<3 where second == nil {
      second = try? await pool.query("SELECT pg_backend_pid() AS pid")[0].decode("pid", as: Int.self)
    }
    #expect(second != nil)
    #expect(second != first)
  }

  @Test func passwordsNeverReachErrorsOrDescriptions() async throws {
    let url = try PostgresURL("postgres://whago:s3cr3t-pw@127.0.0.1:1/whago")
    #expect(!url.description.contains("s3cr3t"))
    var options = PostgresPool.Options()
    options.size = 1
    options.connectTimeout = .seconds(1)
    let pool = PostgresPool(url: url, options: options)
    defer { pool.close() }
    do {
      try await pool.query("SELECT 1")
      Issue.record("connected to port 1")
    } catch {
      #expect(!"\(error)".contains("s3cr3t"))
      #expect("\(error)".contains("WHAGO_DATABASE_URL"))
    }
  }
}
