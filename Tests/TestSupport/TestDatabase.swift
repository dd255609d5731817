import Foundation
import Postgres
import RedisClient

/// The PostgreSQL that scripts/test started, migrated once per test run by the real `whago migrate`.
public enum TestDatabase {
  public static var urlText: String {
    get throws {
      guard let text = ProcessInfo.processInfo.environment["WHAGO_TEST_DATABASE_URL"] else {
        throw TestSetupError(
          "WHAGO_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts PostgreSQL")
      }
      return text
    }
  }

  public static func pool(size: Int = 2) throws -> PostgresPool {
    var options = PostgresPool.Options()
    options.size = size
    return PostgresPool(url: try PostgresURL(try urlText), options: options)
  }

  /// Runs `whago migrate` (safe to run from every test: it is idempotent and serialized by an advisory lock).
  public static func migrate() async throws {
    let result = try await Whago.run(
      ["migrate"], redis: try TestRedis.url.description, environment: ["WHAGO_DATABASE_URL": try urlText])
    guard result.status == 0 else { throw TestSetupError("whago migrate failed: \(result.output)") }
  }

  /// PostgreSQL's `now()`: the clock that checks subscriptions' periods and stamps every row. Tests
  /// derive the dates they need from it, never from the calendar, so they pass on any day.
  public static func now() async throws -> Date {
    let pool = try pool(size: 1)
    defer { pool.close() }
    return try await pool.query("SELECT now() AS now")[0].decode("now")
  }

  /// The first whole hour after PostgreSQL's `now()` (UTC), optionally on a given weekday
  /// (1 Sunday ... 7 Saturday) and hour: a round, always-future start for a schedule clock.
  public static func nextHour(weekday: Int? = nil, hour: Int? = nil) async throws -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    var components = DateComponents(minute: 0, second: 0, nanosecond: 0)
    components.weekday = weekday
    components.hour = hour
    guard let next = calendar.nextDate(after: try await now(), matching: components, matchingPolicy: .strict)
    else { throw TestSetupError("no date matches weekday \(weekday ?? 0) hour \(hour ?? 0)") }
    return next
  }

  /// A tenant name no other test uses.
  public static func tenantName(_ label: String = #function) -> String {
    let clean = label.prefix(while: { $0 != "(" }).lowercased().filter { $0.isLetter || $0.isNumber }
    return "t\(clean.prefix(20))\(UInt32.random(in: 0...UInt32.max))"
  }

  /// The WHAGO_SECRET_KEY of every test: the proxy pool is one table for every suite, and a chip of
  /// one suite may draw another suite's account, which must open with the same key, as in a
  /// deployment.
  public static let secretKey = "BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSY="

  /// Runs a `whago` admin command against the test database and returns its output; throws on failure.
  @discardableResult
  public static func whago(_ arguments: [String]) async throws -> String {
    let result = try await Whago.run(
      arguments, redis: try TestRedis.url.description, environment: ["WHAGO_DATABASE_URL": try urlText])
    guard result.status == 0 else {
      throw TestSetupError("whago \(arguments.joined(separator: " ")) failed: \(result.output)")
    }
    return result.output
  }

  /// Creates a tenant on `plan` and returns its name.
  public static func tenant(plan: String, _ label: String = #function) async throws -> String {
    let name = tenantName(label)
    try await whago(["tenant", "create", name, "--plan", plan])
    return name
  }

  /// A new API key for `tenant` (nil: a service key).
  public static func apiKey(tenant: String?) async throws -> String {
    let output = try await whago(["apikey", "create"] + (tenant.map { [$0] } ?? ["--service"]) + ["--quiet"])
    guard let key = output.split(separator: "\n").last.map(String.init), key.hasPrefix("whago_") else {
      throw TestSetupError("whago apikey create printed no key: \(output)")
    }
    return key
  }
}
