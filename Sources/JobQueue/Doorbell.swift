import RedisClient

extension Broker {
  /// Waits up to `seconds` for a ring on any of `queues`' doorbells (rung by every enqueue, retry
  /// and recovery); true when one rang. BLPOP blocks its connection, so call this on a Broker with
  /// a client of its own. Naming several queues' doorbells in one BLPOP is fine on one Redis; on
  /// Redis Cluster run one worker per queue (each queue's keys live in one slot).
  public func waitForRing(queues: [String], seconds: Int = 1) async throws -> Bool {
    let reply = try await redis.send(
      RedisCommand("BLPOP", queues.map { QueueKeys(queue: $0).wake } + [String(seconds)]))
    return !reply.isNull
  }
}
