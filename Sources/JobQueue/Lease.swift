/// A job handed to a worker under a lease: the worker owns it until it acks, fails, hands it back,
/// or lets the lease expire (then it runs again elsewhere, and a crash is counted).
public struct LeasedJob: Sendable {
  public let id: String
  public let queue: String
  public let type: String
  public let payload: String
  /// Attempts already charged (failures), not counting this run.
  public let attempts: Int
  public let maxAttempts: Int
  /// Times this job's lease expired while it ran (its worker died).
  public let crashes: Int
  /// Identifies this lease; ack, fail and extend must present it.
  public let token: String
  /// When the job became ready to run (Redis ms): enqueued, or its delay or backoff ended. The
  /// wait charts measure from here to `leasedAt`.
  public let readyAt: Int64
  /// When this lease began (Redis ms).
  public let leasedAt: Int64
  /// Set when the job record in Redis was unreadable; the worker dead-letters it with this reason.
  public let corruption: String?
  /// Set when an earlier run deferred this job with its rate-limit tokens reserved: the Redis time
  /// (ms) at which those tokens exist. Such a run takes no tokens again.
  public let tokensReservedFor: Int64?
  /// Whose work this is (nil for system work); plan-based limits read this tenant's plan.
  public var tenant: String? = nil
}

/// The answer to one fetch.
public struct FetchResult: Sendable {
  public var jobs: [LeasedJob]
  /// Milliseconds until the next scheduled job is due, if any (relative, so no clock is compared).
  public var nextDueIn: Int64?
  public var paused: Bool
}
