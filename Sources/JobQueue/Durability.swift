import RedisClient

/// A queue's promise against losing acknowledged writes in a failover: Redis replicates
/// asynchronously, so a master that dies can take the last writes with it even though they were
/// answered. With a durability, every enqueue and every ack on the queue is followed by
/// `WAIT replicas timeout`, which returns once that many replicas hold the writes (or at the
/// timeout): an enqueue answered only then survives the master's death. Slower by a round trip
/// to the replica per call (see BENCHMARKS.md); off by default.
public struct Durability: Sendable, Equatable {
  public var replicas: Int
  public var timeout: Duration

  public init(replicas: Int, timeout: Duration) {
    self.replicas = replicas
    self.timeout = timeout
  }
}

/// Fewer replicas than the queue asks for held a write in time. The write is on the master; it
/// may be lost if the master fails before it replicates. An enqueue retried with the same
/// idempotency key is safe.
public struct NotReplicated: Error, CustomStringConvertible, Equatable {
  public let queue: String
  public let replicas: Int
  public let wanted: Int

  public var description: String {
    "queue \(queue): \(replicas) of \(wanted) replica(s) confirmed the write in time; it is on the master and may be "
      + "lost if the master fails now. Retry with the same idempotency key, and check the replicas (INFO replication)"
  }
}

extension Broker {
  /// Waits until the queue's durability holds for every write this client sent so far. Returns
  /// nil when the queue asks for none.
  @discardableResult
  public func replicate(queue: String) async throws -> Int? {
    guard let durability = durability[queue] else { return nil }
    let milliseconds = max(1, Int(durability.timeout.milliseconds))
    // On a cluster, WAIT asks the queue's own master about its replicas.
    let reply = try await redis.send(
      RedisCommand("WAIT", String(durability.replicas), String(milliseconds)).routed(by: QueueKeys(queue: queue).ready))
    let replicas = Int(reply.int ?? 0)
    if replicas < durability.replicas {
      throw NotReplicated(queue: queue, replicas: replicas, wanted: durability.replicas)
    }
    return replicas
  }
}
