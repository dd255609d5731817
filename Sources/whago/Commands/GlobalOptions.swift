import ArgumentParser
import Foundation
import JobCatalog
import JobQueue
import Logging
import Postgres
import RedisClient
import Store

/// Options every command shares. Each flag has an environment variable of the same name
/// (`--redis-url` / `WHAGO_REDIS_URL`), so deployments configure by environment and people by flags.
///
/// The two URLs carry passwords, so their environment values are read when used, never made the
/// options' defaults: ArgumentParser prints a default in `--help`, and `WHAGO_DATABASE_URL=… whago
/// serve --help` would show the password to anyone looking over a shoulder or at a CI log.
struct GlobalOptions: ParsableArguments {
  @Option(
    name: .customLong("redis-url"),
    help:
      "Redis URL: redis://[:password@]host:port/db or unix:///path.sock (default: WHAGO_REDIS_URL, else redis://127.0.0.1:6379/0)."
  )
  var redisURLOption: String?

  @Option(
    name: .customLong("database-url"),
    help: "PostgreSQL URL: postgres://user:password@host:port/database (default: WHAGO_DATABASE_URL).")
  var databaseURLOption: String?

  @Option(
    name: .customLong("database-pooler"),
    help:
      "What sits before PostgreSQL: none, or transaction for PgBouncer in pool_mode=transaction (default: WHAGO_DATABASE_POOLER, else none)."
  )
  var databasePoolerOption: String?

  /// `--redis-url`, else `WHAGO_REDIS_URL`, else the local default.
  var redisURL: String {
    redisURLOption ?? ProcessInfo.processInfo.environment["WHAGO_REDIS_URL"] ?? "redis://127.0.0.1:6379/0"
  }

  /// `--database-url`, else `WHAGO_DATABASE_URL`, else empty (no database).
  var databaseURL: String {
    databaseURLOption ?? ProcessInfo.processInfo.environment["WHAGO_DATABASE_URL"] ?? ""
  }

  /// `--database-pooler`, else `WHAGO_DATABASE_POOLER`, else none. An unknown value is refused
  /// with the accepted ones.
  func databasePooler() throws -> PostgresPooler {
    do {
      return try PostgresPooler(
        setting: databasePoolerOption ?? ProcessInfo.processInfo.environment[PostgresPooler.environmentVariable])
    } catch {
      throw ValidationError("\(error) (from --database-pooler / \(PostgresPooler.environmentVariable))")
    }
  }

  /// Every command refuses an unknown pooler before it starts, database or not.
  func validate() throws {
    _ = try databasePooler()
  }

  @Option(help: "The jobs/ folder holding catalog.json. Env: WHAGO_JOBS_DIR.")
  var jobsDir: String?

  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. Env: WHAGO_LOG_LEVEL.")
  var logLevel: String = ProcessInfo.processInfo.environment["WHAGO_LOG_LEVEL"] ?? "info"

  func redisURLValue() throws -> RedisURL {
    do {
      return try RedisURL(redisURL)
    } catch {
      throw ValidationError("\(error) (from --redis-url / WHAGO_REDIS_URL)")
    }
  }

  /// A Redis client. One-shot commands report a failure once, as their error, so the client's
  /// own reconnect warnings are kept for long-running processes (`quiet: false`).
  func client(commandTimeout: Duration? = .seconds(10), quiet: Bool = true) throws -> RedisClient {
    var options = RedisClient.Options()
    options.commandTimeout = commandTimeout
    var log = logger(label: "whago.redis")
    if quiet { log.logLevel = max(log.logLevel, .error) }
    return RedisClient(url: try redisURLValue(), options: options, logger: log)
  }

  /// The system of record. `checked` refuses a database whose schema is not this binary's.
  func store(
    poolSize: Int = 2, checked: Bool = true, quiet: Bool = true, maxWaiting: Int? = nil, waitDeadline: Duration? = nil
  ) async throws -> Store {
    let text = databaseURL
    guard !text.isEmpty else {
      throw ValidationError(
        "no database: set WHAGO_DATABASE_URL or --database-url (postgres://user:password@host:port/db)")
    }
    let url: PostgresURL
    do {
      url = try PostgresURL(text)
    } catch {
      throw ValidationError("\(error) (from --database-url / WHAGO_DATABASE_URL)")
    }
    var options = PostgresPool.Options()
    options.size = poolSize
    options.maxWaiting = maxWaiting
    options.waitDeadline = waitDeadline
    options.pooler = try databasePooler()
    var log = logger(label: "whago.postgres")
    if quiet { log.logLevel = max(log.logLevel, .error) }
    let store = Store(pool: PostgresPool(url: url, options: options, logger: log))
    if checked {
      do {
        try await store.checkSchema()
      } catch {
        await store.pool.shutdown()
        throw error
      }
    }
    return store
  }

  /// Runs `body` with the store and shuts its pool down before returning, error or not (see
  /// `PostgresPool.shutdown`: a process must not exit with connections still closing).
  func withStore<T>(
    poolSize: Int = 2, checked: Bool = true, _ body: (Store) async throws -> T
  ) async throws -> T {
    let store = try await store(poolSize: poolSize, checked: checked)
    do {
      let value = try await body(store)
      await store.pool.shutdown()
      return value
    } catch {
      await store.pool.shutdown()
      throw error
    }
  }

  /// The jobs/ folder that holds catalog.json (and plans.json), found as `catalog()` finds it.
  func jobsDirectory() throws -> String {
    let file = try JobCatalog.locate(directory: jobsDir ?? ProcessInfo.processInfo.environment["WHAGO_JOBS_DIR"])
    return URL(fileURLWithPath: file).deletingLastPathComponent().path
  }

  func catalog() throws -> JobCatalog {
    try JobCatalog.load(directory: jobsDir ?? ProcessInfo.processInfo.environment["WHAGO_JOBS_DIR"])
  }

  func logger(label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = Logger.Level(rawValue: logLevel.lowercased()) ?? .info
    return logger
  }
}
