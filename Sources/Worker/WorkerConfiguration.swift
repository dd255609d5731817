/// How one `whago work` process runs.
public struct WorkerConfiguration: Sendable {
  /// Queues served, with weights: a queue of weight 5 is tried first five times as often as one of weight 1.
  public var queues: [(name: String, weight: Int)]
  /// Handlers running at once.
  public var concurrency: Int
  /// How long a fetched job stays leased without an extension; a dead worker's jobs run again after it.
  public var lease: Duration
  /// How long running jobs may take to finish after SIGTERM before they are cancelled and handed back.
  public var gracePeriod: Duration
  /// How often the worker looks at the queues when no doorbell rings.
  public var pollInterval: Duration
  /// How often expired leases are swept.
  public var recoveryInterval: Duration
  /// A name for logs and lease tokens; unique per process.
  public var name: String
  /// How often the worker tells Redis it is alive (it drops out of listings after 3 missed beats).
  public var heartbeatInterval: Duration = .seconds(5)
  /// How long a job whose service is out of reach (`HandlerRegistry.treatAsOutage`) waits before it
  /// runs again, uncharged.
  public var outagePause: Duration = .seconds(3)

  public init(
    queues: [(name: String, weight: Int)], concurrency: Int = 64, lease: Duration = .seconds(15),
    gracePeriod: Duration = .seconds(25), pollInterval: Duration = .seconds(1),
    recoveryInterval: Duration = .seconds(1), name: String
  ) {
    self.queues = queues
    self.concurrency = concurrency
    self.lease = lease
    self.gracePeriod = gracePeriod
    self.pollInterval = pollInterval
    self.recoveryInterval = recoveryInterval
    self.name = name
  }
}
