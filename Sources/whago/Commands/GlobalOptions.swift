import ArgumentParser
import Foundation
import JobCatalog
import JobQueue
import Logging
import RedisClient

/// Options every command shares. Each flag has an environment variable of the same name
/// (`--redis-url` / `WHAGO_REDIS_URL`), so deployments configure by environment and people by flags.
struct GlobalOptions: ParsableArguments {
  @Option(help: "Redis URL: redis://[:password@]host:port/db or unix:///path.sock. Env: WHAGO_REDIS_URL.")
  var redisURL: String = ProcessInfo.processInfo.environment["WHAGO_REDIS_URL"] ?? "redis://127.0.0.1:6379/0"

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

  func client(commandTimeout: Duration? = .seconds(10)) throws -> RedisClient {
    var options = RedisClient.Options()
    options.commandTimeout = commandTimeout
    return RedisClient(url: try redisURLValue(), options: options, logger: logger(label: "whago.redis"))
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
