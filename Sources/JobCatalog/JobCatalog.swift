import Foundation
import JobQueue

/// The declarative catalog in jobs/catalog.json: which job types exist, the queue each runs on,
/// and its policy. Workers, the CLI and the enqueuer all read the same file, so a job type's rules
/// are written once.
public struct JobCatalog: Sendable {
  public struct QueueInfo: Sendable, Equatable {
    public var name: String
    public var weight: Int
    public var retention: Retention
    /// How long, and how many, dead letters are kept (`retention.sweep` applies it): long enough
    /// for an operator to look, bounded so a failing dependency cannot fill Redis.
    public var deadRetention = JobCatalog.defaultDeadRetention
    /// Enqueues and acks wait for this many replicas (`durability`); nil: Redis's asynchronous
    /// replication, as by default.
    public var durability: Durability?
  }

  /// Each queue's durability, for the `Broker` of every process that writes to the queues.
  public var durability: [String: Durability] { queues.compactMapValues(\.durability) }

  /// 30 days, 100,000 letters, unless the queue's `dead_retention` says otherwise.
  public static let defaultDeadRetention = Retention(age: .seconds(30 * 86_400), count: 100_000)

  public struct JobPolicy: Sendable, Equatable {
    public var type: String
    public var queue: String
    public var maxAttempts: Int
    public var backoff: Backoff
    public var timeout: Duration
    public var crashLimit: Int
    public var idempotencyWindow: Duration
    /// Who may submit this type over HTTP, always onto `queue`.
    public var submitters: Submitters
    /// Token buckets every run takes from before it starts (all or none).
    public var limits: [LimitTemplate] = []
  }

  /// Who may submit a job type over HTTP. Work a tenant could misuse (sleeping in a worker slot,
  /// filling the dead set) is for operators, so that no tenant can hold up another's renewals.
  public enum Submitters: String, Sendable, Equatable {
    /// Only the system enqueues it.
    case nobody
    /// Service keys (WHAGO's backend, operators), acting for a tenant.
    case operators
    /// Tenant keys as well as service keys.
    case tenants
  }

  /// A recurring schedule: every slot of `cron` (in `timeZone`) enqueues `job` once.
  public struct Schedule: Sendable, Equatable {
    public enum MissedSlots: String, Sendable, Equatable {
      /// Slots that passed while no scheduler ran are dropped.
      case skip
      /// Slots that passed while no scheduler ran are made up by one job, as soon as one runs.
      case runOnce = "run_once"
    }
    public var name: String
    public var cron: CronExpression
    public var timeZone: TimeZone
    public var jobType: String
    public var payload: String
    public var queue: String
    public var missed: MissedSlots
    /// How late a slot may still fire on its own; older unfired slots count as missed. A deploy or
    /// a pause shorter than this loses nothing and makes nothing up.
    public var missedAfter: Duration
  }

  public let queues: [String: QueueInfo]
  public let jobs: [String: JobPolicy]
  public let schedules: [Schedule]
  /// Where it was read from, for messages.
  public let source: String

  /// The policy of `type`, or an error naming the types that exist.
  public func policy(for type: String) throws(CatalogError) -> JobPolicy {
    guard let policy = jobs[type] else { throw .unknownJobType(type, known: jobs.keys.sorted()) }
    return policy
  }

  public func queue(_ name: String) -> QueueInfo {
    queues[name] ?? QueueInfo(name: name, weight: 1, retention: Retention(), deadRetention: Self.defaultDeadRetention)
  }

  /// Queue names sorted by weight, heaviest first.
  public var queueNames: [String] {
    queues.values.sorted { ($0.weight, $1.name) > ($1.weight, $0.name) }.map(\.name)
  }
}

public enum CatalogError: Error, Sendable, CustomStringConvertible {
  case notFound(searched: [String])
  case unreadable(path: String, reason: String)
  case invalid(path: String, reason: String)
  case unknownJobType(String, known: [String])

  public var description: String {
    switch self {
    case .notFound(let searched):
      "no job catalog found (looked for \(searched.joined(separator: ", "))); set WHAGO_JOBS_DIR to the jobs/ folder"
    case .unreadable(let path, let reason):
      "cannot read the job catalog \(path): \(reason)"
    case .invalid(let path, let reason):
      "the job catalog \(path) is invalid: \(reason)"
    case .unknownJobType(let type, let known):
      "unknown job type '\(type)'; the catalog defines: \(known.joined(separator: ", "))"
    }
  }
}
