import Foundation
import JobContracts
import JobQueue
import Logging
import RedisClient

/// Built-in job types for operators, tests and benchmarks.
public enum DiagnosticJobs {
  public static func register(in registry: inout HandlerRegistry) {
    registry.register(Noop())
    registry.register(Sleep())
    registry.register(Fail())
    registry.register(Echo())
    registry.register(Crash())
  }

  /// Does nothing: measures the queue itself.
  public struct Noop: JobHandler {
    public typealias Contract = DiagNoopJob
    public func run(_ parameters: NoParameters, context: JobContext) async throws {}
  }

  /// Sleeps `ms` milliseconds, honoring cancellation: stands in for slow work.
  public struct Sleep: JobHandler {
    public typealias Contract = DiagSleepJob
    public func run(_ parameters: DiagSleepJob.Parameters, context: JobContext) async throws {
      guard parameters.ms >= 0 else { throw PermanentFailure("ms must not be negative") }
      try await Task.sleep(for: .milliseconds(parameters.ms))
    }
  }

  /// Fails its first `times` attempts, then succeeds: exercises retries and dead letters.
  public struct Fail: JobHandler {
    public typealias Contract = DiagFailJob
    public func run(_ parameters: DiagFailJob.Parameters, context: JobContext) async throws {
      if context.attempt <= parameters.times {
        throw DiagnosticFailure(
          message: "diag.fail: attempt \(context.attempt) of \(parameters.times) planned failures")
      }
    }
  }

  /// Logs its payload; with `"witness": true` it also counts its own runs in Redis, so tests can
  /// prove each job ran exactly once.
  public struct Echo: JobHandler {
    /// How long the witness keys outlive their last write: long enough for any test or chaos run
    /// to read them, short enough that witness jobs cannot grow Redis for good.
    static let witnessLifetimeSeconds = "86400"

    // KEYS[1] -> whago:{q}:witness   ARGV[1] -> job id, ARGV[2] -> lifetime (s)
    // Counts one run of the job.
    static let countScript = RedisScript(
      "diag.echo.count",
      """
      redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
      redis.call('EXPIRE', KEYS[1], ARGV[2])
      return 1
      """)

    // KEYS[1] -> whago:{q}:witness:tokens   KEYS[2] -> whago:{q}:witness:early
    // ARGV[1] -> job id, ARGV[2] -> when its tokens existed (Redis ms), ARGV[3] -> lifetime (s)
    // Records the token time, and counts a run that started before it.
    static let stampScript = RedisScript(
      "diag.echo.stamp",
      """
      local t = redis.call('TIME')
      local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
      redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
      redis.call('EXPIRE', KEYS[1], ARGV[3])
      if now < tonumber(ARGV[2]) then
        redis.call('INCR', KEYS[2])
        redis.call('EXPIRE', KEYS[2], ARGV[3])
      end
      return now
      """)
    public typealias Contract = DiagEchoJob
    public func run(_ parameters: DiagEchoJob.Parameters, context: JobContext) async throws {
      if parameters.witness == true {
        let keys = QueueKeys(queue: context.queue)
        _ = try await context.broker.redis.evaluate(
          Self.countScript, keys: [keys.witness], arguments: [context.id, Self.witnessLifetimeSeconds])
        if let tokensAt = context.tokensAt {
          _ = try await context.broker.redis.evaluate(
            Self.stampScript, keys: [keys.witnessTokens, keys.witnessEarly],
            arguments: [context.id, String(tokensAt), Self.witnessLifetimeSeconds])
        }
      }
      if let message = parameters.message {
        context.logger.info("diag.echo", metadata: ["message": "\(message)"])
      }
    }
  }

  /// Kills its own worker process with SIGKILL: the poison job that crash recovery must stop.
  public struct Crash: JobHandler {
    public typealias Contract = DiagCrashJob
    public func run(_ parameters: NoParameters, context: JobContext) async throws {
      context.logger.warning("diag.crash: killing this worker on purpose", metadata: ["job": "\(context.id)"])
      kill(getpid(), SIGKILL)
    }
  }
}

struct DiagnosticFailure: Error, CustomStringConvertible {
  let message: String
  var description: String { message }
}
