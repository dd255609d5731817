import JobQueue
import Logging

/// A job type's code, for its contract. Parameters arrive decoded from the job's JSON payload; a
/// payload that does not decode never reaches `run` (the job is dead-lettered with the decoding
/// error).
public protocol JobHandler: Sendable {
  associatedtype Contract: JobContract
  func run(_ parameters: Contract.Parameters, context: JobContext) async throws
}

/// What a running job knows about itself and may use.
public struct JobContext: Sendable {
  public let id: String
  public let queue: String
  public let type: String
  /// 1 for the first attempt; crashes of earlier workers do not count.
  public let attempt: Int
  public let maxAttempts: Int
  public let broker: Broker
  package let baseLogger: Logger
  /// When the run's rate-limit tokens existed (Redis ms), if its job type takes any.
  public let tokensAt: Int64?
  /// Names this run and no other: the job id and its lease token. A run whose lease is lost (its
  /// worker froze past the lease, and another run took the job) keeps its fence while the new run
  /// has another, so a handler records its fence on every claim it makes in PostgreSQL and makes
  /// its side effects conditional on still holding it.
  public var fence: String { "\(id)/\(leaseToken)" }
  package let leaseToken: String
  package let lease: Duration
  package let leaseLost: @Sendable () -> Bool

  package init(
    id: String, queue: String, type: String, attempt: Int, maxAttempts: Int, broker: Broker, baseLogger: Logger,
    tokensAt: Int64?, leaseToken: String, lease: Duration, leaseLost: @escaping @Sendable () -> Bool
  ) {
    self.id = id
    self.queue = queue
    self.type = type
    self.attempt = attempt
    self.maxAttempts = maxAttempts
    self.broker = broker
    self.baseLogger = baseLogger
    self.tokensAt = tokensAt
    self.leaseToken = leaseToken
    self.lease = lease
    self.leaseLost = leaseLost
  }

  /// Confirms, in Redis, that this run still holds its job's lease (and extends it), just before
  /// an effect that must not happen twice (a WhatsApp send, a charge). Throws `LeaseLost` when
  /// another run has the job: the handler must stop without the effect.
  public func confirmLease() async throws {
    if leaseLost() { throw LeaseLost(job: id) }
    if try await !broker.extendLeases(queue: queue, [(id, leaseToken)], by: lease).isEmpty {
      throw LeaseLost(job: id)
    }
  }

  /// A logger that names this job, its type and queue (built on use, not for every run).
  public var logger: Logger {
    Self.logger(baseLogger, job: id, type: type, queue: queue)
  }

  package static func logger(_ base: Logger, job: String, type: String, queue: String) -> Logger {
    var log = base
    log[metadataKey: "job"] = "\(job)"
    log[metadataKey: "type"] = "\(type)"
    log[metadataKey: "queue"] = "\(queue)"
    return log
  }
}

/// Thrown by a handler for a failure that no retry can cure (bad input, a refused request):
/// the job goes straight to the dead-letter set.
public struct PermanentFailure: Error, CustomStringConvertible {
  public let reason: String
  public init(_ reason: String) { self.reason = reason }
  public var description: String { reason }
}

/// Thrown when a run finds that its lease was lost: another run owns the job now, and this one
/// stops without side effects and without touching the job's state.
public struct LeaseLost: Error, CustomStringConvertible {
  public let job: String
  public init(job: String) { self.job = job }
  public var description: String {
    "lost the lease of job \(job) to another run (this worker was stalled longer than the lease); it stops here"
  }
}

/// Thrown when a run outlives its job type's timeout.
public struct JobTimeout: Error, CustomStringConvertible {
  public let limit: Duration
  package init(limit: Duration) { self.limit = limit }
  public var description: String {
    "timed out after \(limit) (raise timeout_ms in jobs/catalog.json if this job needs longer)"
  }
}

/// Thrown by a handler that finished one step of long-running work and wants to run again later as
/// the same job (a campaign's chip sending its next message after a human pause). The job goes back
/// to the scheduled set for `delay` (Redis time) with a fresh attempt budget: not a failure, and
/// since it is the same job id, there is never a second copy of the loop.
public struct Snooze: Error, CustomStringConvertible {
  public let delay: Duration
  public init(for delay: Duration) { self.delay = delay }
  public var description: String { "run again in \(delay)" }
}
