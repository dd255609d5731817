import Foundation
import Postgres
import RedisClient
import Store
import TestSupport
import Testing

/// Each test migrates a database of its own, so the shared test database is never at risk.
@Suite struct MigrationTests {
  /// A new empty database and a pool on it; dropped by `drop`.
  func freshDatabase() async throws -> (pool: PostgresPool, name: String, url: String) {
    let name = "whago_mig_\(UInt32.random(in: 0...UInt32.max))"
    let admin = try TestDatabase.pool(size: 1)
    defer { admin.close() }
    try await admin.query("CREATE DATABASE \(name)")
    var components = URLComponents(string: try TestDatabase.urlText)!
    components.path = "/\(name)"
    let url = components.string!
    return (PostgresPool(url: try PostgresURL(url)), name, url)
  }

  func drop(_ name: String) async throws {
    let admin = try TestDatabase.pool(size: 1)
    defer { admin.close() }
    try await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
  }

  @Test func migratesOnceInOrderAndRefusesANewerDatabase() async throws {
    let (pool, name, url) = try await freshDatabase()
    defer { pool.close() }
    let first = try await Migrator(pool: pool).migrate()
    #expect(first.from == 0)
    #expect(first.applied.map(\.version) == Migration.all.map(\.version))
    let again = try await Migrator(pool: pool).migrate()
    #expect(again.applied.isEmpty)
    let tables = try await pool.query(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('plans','tenants','api_keys','campaign_messages','payments')"
    )
    #expect(try tables[0].decode("n", as: Int.self) == 5)

    // The real command says so and changes nothing when the database is newer than the binary.
    try await pool.query("INSERT INTO schema_migrations (version, name) VALUES (999, 'from-the-future')")
    let result = try await Whago.run(
      ["migrate"], redis: try TestRedis.url.description, environment: ["WHAGO_DATABASE_URL": url])
    #expect(result.status != 0)
    #expect(result.output.contains("newer than this whago"))
    #expect(!result.output.contains("whago:whago@"))
    let versions = try await pool.query("SELECT count(*)::int AS n FROM schema_migrations")
    #expect(try versions[0].decode("n", as: Int.self) == Migration.all.count + 1)
    await #expect(throws: MigrationError.self) { try await Store(pool: pool).checkSchema() }
    pool.close()
    try await drop(name)
  }

  @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
    let (pool, name, url) = try await freshDatabase()
    defer { pool.close() }
    let results = try await withThrowingTaskGroup(of: (Int32, String).self) { group in
      for _ in 0..<3 {
        group.addTask {
          try await Whago.run(
            ["migrate"], redis: try TestRedis.url.description, environment: ["WHAGO_DATABASE_URL": url])
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(results.allSatisfy { $0.0 == 0 })
    #expect(results.filter { $0.1.contains("schema migrated from version 0") }.count == 1)
    let plans = try await Store(pool: pool).plans()
    #expect(plans.map(\.name) == ["free", "business", "enterprise"])
    pool.close()
    try await drop(name)
  }

  @Test func defaultPlansFollowWHAGOsPriceList() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool()
    defer { pool.close() }
    let plans = Dictionary(uniqueKeysWithValues: try await Store(pool: pool).plans().map { ($0.name, $0) })
    // Plans are data other tests may edit; these three are only read.
    let free = try #require(plans["free"])
    #expect(free.priceCents == 0 && free.chips == 1 && free.monthlyCredits == 500 && free.activeCampaigns == 1)
    #expect(free.minSendGapMs == 10_000 && !free.scheduling && !free.maturation && !free.hasAPIAccess)
    let business = try #require(plans["business"])
    #expect(business.priceCents == 9_700 && business.chips == 3 && business.minSendGapMs == 5_000)
    #expect(business.scheduling && business.maturation && !business.hasAPIAccess)
    let enterprise = try #require(plans["enterprise"])
    #expect(enterprise.priceCents == 29_700 && enterprise.chips == 10 && enterprise.monthlyCredits == 20_000)
    #expect(enterprise.minSendGapMs == 3_000 && enterprise.apiRequestsPerHour == 1_000)
  }
}
