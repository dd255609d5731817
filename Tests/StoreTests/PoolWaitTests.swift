import Foundation
import Postgres
import TestSupport
import Testing

/// A saturated pool does not queue without bound: past its waiting limit a request fails at once,
/// and one that waited past the deadline fails when its turn comes, without running.
@Suite struct PoolWaitTests {
  @Test func aSaturatedPoolRefusesInsteadOfQueueingForever() async throws {
    var options = PostgresPool.Options()
    options.size = 1
    options.maxWaiting = 2
    options.waitDeadline = .milliseconds(500)
    options.applicationName = "whago-poolwait-\(UUID().uuidString.prefix(8))"
    let pool = PostgresPool(url: try PostgresURL(try TestDatabase.urlText), options: options)
    defer { pool.close() }
    let watcher = try TestDatabase.pool(size: 1)
    defer { watcher.close() }

    // The one connection waits on a lock the watcher holds, for as long as the test needs.
    let lock = Int64.random(in: 1...Int64.max)
    try await watcher.query("SELECT pg_advisory_lock($1)", [lock])
    let sleeper = Task { try await pool.query("SELECT pg_advisory_lock($1), pg_advisory_unlock($1)", [lock]) }
    try await eventually("the blocked statement to run") {
      let rows = try await watcher.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
        [options.applicationName])
      return try rows.rows.first?.decode("n", as: Int.self) == 1
    }
    // Two may wait; the third is refused at once.
    let waiters = (0..<2).map { _ in Task { try await pool.query("SELECT 1") } }
    try await eventually("the two to be queued") { pool.waiting == 2 }
    var immediate: PostgresError?
    do {
      _ = try await pool.query("SELECT 1")
    } catch let error as PostgresError {
      immediate = error
    }
    // Held past the 0.5 s deadline, then let go: the two that waited are refused when their turn
    // comes, without running.
    try await Task.sleep(for: .milliseconds(600))
    try await watcher.query("SELECT pg_advisory_unlock($1)", [lock])
    for waiter in waiters {
      do {
        _ = try await waiter.value
        Issue.record("a request that waited past a 0.5 s deadline ran")
      } catch let error as PostgresError {
        #expect(error.kind == .busy && "\(error)".contains("waited more than"), "\(error)")
        #expect(error.isTransient && !error.isOutage)
      }
    }
    _ = try await sleeper.value
    #expect(immediate?.kind == .busy, "\(String(describing: immediate))")
    #expect(immediate.map { "\($0)".contains("requests are already waiting") } == true)
    // Free again, the pool serves as before.
    #expect(try await pool.query("SELECT 1 AS one").rows.first?.decode("one", as: Int.self) == 1)
  }
}
