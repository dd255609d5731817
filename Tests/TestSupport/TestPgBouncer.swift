import Foundation
import Postgres

/// The PgBouncer that scripts/test starts in front of the test PostgreSQL, in transaction pooling
/// (as production runs it): any database name reaches the database of that name.
public enum TestPgBouncer {
  /// Whether scripts/test started it; suites that need it are enabled on this.
  public static var isRunning: Bool {
    ProcessInfo.processInfo.environment["WHAGO_TEST_PGBOUNCER_URL"] != nil
  }

  public static var urlText: String {
    get throws {
      guard let text = ProcessInfo.processInfo.environment["WHAGO_TEST_PGBOUNCER_URL"] else {
        throw TestSetupError(
          "WHAGO_TEST_PGBOUNCER_URL is not set: run the tests with scripts/test, which starts PgBouncer")
      }
      return text
    }
  }

  /// The URL of `database` through PgBouncer.
  public static func urlText(database: String) throws -> String {
    var components = URLComponents(string: try urlText)!
    components.path = "/\(database)"
    return components.string!
  }

  /// A pool through PgBouncer; `pooler` is what the pool believes sits before the server.
  public static func pool(
    size: Int = 2, pooler: PostgresPooler = .transaction, database: String? = nil
  ) throws -> PostgresPool {
    var options = PostgresPool.Options()
    options.size = size
    options.pooler = pooler
    options.connectTimeout = .seconds(5)
    let url = try database.map { try urlText(database: $0) } ?? urlText
    return PostgresPool(url: try PostgresURL(url), options: options)
  }

  /// The environment of a whago process that reaches PostgreSQL through PgBouncer.
  public static var environment: [String: String] {
    get throws {
      ["WHAGO_DATABASE_URL": try urlText, PostgresPooler.environmentVariable: PostgresPooler.transaction.rawValue]
    }
  }
}
