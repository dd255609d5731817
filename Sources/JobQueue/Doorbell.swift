import RedisClient

extension Broker {
  /// Waits up to `seconds` for a ring on any of `queues`' doorbells (rung by every enqueue, retry
  /// and recovery); true when one rang. BLPOP blocks its connection, so call this on a Broker with
  /// a client of its own. On Redis Cluster one BLPOP may name keys of one slot only, so
  /// `queues` must then share a slot (in practice: one queue per call; see the worker's Doorbell).
  public func waitForRing(queues: [String], seconds: Int = 1) async throws -> Bool {
    let reply = try await redis.send(
      RedisCommand("BLPOP", queues.map { QueueKeys(queue: $0).wake } + [String(seconds)]))
    return !reply.isNull
  }
}
