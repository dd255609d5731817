/// Every Redis key of whago-jobs is named here and nowhere else.
///
/// All keys of one queue share the hash tag `{queue}`, so each script touches a single slot and
/// runs unchanged on Redis Cluster. Lua scripts receive these names as KEYS; where a script must
/// reach one job's key it receives the prefix from here and appends only the job id.
public struct QueueKeys: Sendable, Hashable {
  public let queue: String
  private let base: String

  public init(queue: String) {
    self.queue = queue
    self.base = "whago:{\(queue)}:"
  }

  /// LIST of ready job ids without a tenant, and the prefix of each tenant's lane
  /// (`ready:<tenant>`); producers push left, workers pop right (FIFO within a lane).
  public var ready: String { base + "ready" }
  /// A tenant's lane of ready job ids.
  public func lane(_ tenant: String?) -> String {
    guard let tenant, !tenant.isEmpty else { return ready }
    return ready + ":" + tenant
  }
  /// LIST ring of tenants with ready work; fetches serve them in turn.
  public var ring: String { base + "ring" }
  /// SET of the tenants in the ring, so none is in it twice.
  public var ringMembers: String { base + "ring:members" }
  /// HASH of tenant -> weight for the round robin (absent tenants weigh 1).
  public var weights: String { base + "weights" }
  /// ZSET of delayed and backing-off job ids, scored by due time (Redis ms).
  public var scheduled: String { base + "scheduled" }
  /// Prefix of each tenant's ZSET of capped jobs scheduled ahead, scored by due time:
  /// `tenantScheduledPrefix + tenant`. Only members due later count (see the enqueue script).
  public var tenantScheduledPrefix: String { base + "scheduled:tenant:" }
  /// ZSET of leased job ids, scored by lease deadline (Redis ms).
  public var leased: String { base + "leased" }
  /// HASH of the running jobs' leases: job id -> `<lease token>@<started at, Redis ms>` (see `LuaLease`).
  public var leases: String { base + "leases" }
  /// HASH of finished jobs' start times: job id -> Redis ms, trimmed with the finished set (a done
  /// job's record is not written at its ack; see `LuaLease`).
  public var starts: String { base + "starts" }
  /// ZSET of dead-lettered job ids, scored by the time they died.
  public var dead: String { base + "dead" }
  /// ZSET of finished (done or cancelled) job ids kept for the retention window, scored by finish time.
  public var finished: String { base + "finished" }
  /// HASH of counters: enqueued, processed, failed, retried, dead, recovered, cancelled.
  public var stats: String { base + "stats" }
  /// HASH of per-minute counts for the last hour: `p:<minute>` processed, `f:<minute>` failed
  /// (minute = Redis ms / 60,000). Rates and throughput charts read it.
  public var minutes: String { base + "minutes" }
  /// HASH of one minute's run aggregates (minute = Redis ms / 60,000): per job type `<type>|p`
  /// finished, `<type>|f` failed, `<type>|r<b>` and `<type>|w<b>` runtime and wait histogram
  /// buckets (see `RunHistogram`). Kept 65 minutes.
  public func runMinute(_ minute: Int64) -> String { base + "runs:m:" + String(minute) }
  /// The same for a quarter hour (Redis ms / 900,000), kept 25 hours for the day's chart.
  public func runQuarterHour(_ quarter: Int64) -> String { base + "runs:q:" + String(quarter) }
  /// Present while the queue is paused.
  public var paused: String { base + "paused" }
  /// LIST used as a doorbell: idle workers block on it, enqueues ring it.
  public var wake: String { base + "wake" }
  /// Prefix of each job's HASH: `jobPrefix + id`.
  public var jobPrefix: String { base + "job:" }
  /// Prefix of each job's attempt history LIST: `historyPrefix + id`.
  public var historyPrefix: String { base + "history:" }
  /// Prefix of idempotency keys: `uniquePrefix + key` holds the first job's id.
  public var uniquePrefix: String { base + "unique:" }

  /// HASH counting runs per job id, written by `diag.echo` when asked, read by tests.
  public var witness: String { base + "witness" }
  /// ZSET of job id -> the Redis time its rate-limit tokens existed, written by `diag.echo` when asked.
  public var witnessTokens: String { base + "witness:tokens" }
  /// Counter of runs that started before their tokens existed (must stay absent), for tests.
  public var witnessEarly: String { base + "witness:early" }

  /// HASH of one cron schedule's progress (last slot handled, next slot, last job, counts). In the
  /// queue's hash tag, so firing a slot and enqueueing its job are one script.
  public func cron(_ name: String) -> String { base + "cron:" + name }

  public func job(_ id: String) -> String { jobPrefix + id }
  public func history(_ id: String) -> String { historyPrefix + id }

  /// A token bucket's HASH (tokens, ts). All buckets share one hash tag so that a take naming
  /// several of them (per chip and per tenant, say) is one atomic script on Redis Cluster too.
  public static func bucket(_ name: String) -> String { "whago:{limits}:bucket:" + name }

  /// ZSET of live worker names scored by their last heartbeat (Redis ms), for operator tools.
  /// Worker keys share the hash tag `{workers}` so one heartbeat script writes both on a cluster.
  public static let workers = "whago:{workers}"
  /// A worker's STRING heartbeat record (JSON), expiring when the worker stops beating.
  public static func worker(_ name: String) -> String { "whago:{workers}:" + name }

  /// SET of every queue name ever used, for operator tools. Outside any hash tag on purpose.
  public static let registry = "whago:queues"
}
