import RedisClient

extension Broker {
  // KEYS[1] -> whago:{q}:leased
  // KEYS[2] -> whago:{q}:ready
  // KEYS[3] -> whago:{q}:wake
  // KEYS[4] -> whago:{q}:job:   (prefix)
  // KEYS[5] -> whago:{q}:ring
  // KEYS[6] -> whago:{q}:ring:members
  // KEYS[7] -> whago:{q}:leases
  // ARGV    -> pairs: job id, lease token
  // Output: how many jobs went back
  // A worker shutting down returns work it has not finished at once, at the consumer end of the
  // ready list, charging neither an attempt nor a crash: other workers need not wait for a lease
  // to expire.
  static let handBackScript = RedisScript(
    "handBack",
    LuaReady.functions + LuaLease.functions + """
      local n = 0
      for i = 1, #ARGV, 2 do
        local id = ARGV[i]
        local jk = KEYS[4] .. id
        if redis.call('ZSCORE', KEYS[1], id) and leaseHeldBy(redis.call('HGET', KEYS[7], id), ARGV[i + 1]) then
          redis.call('ZREM', KEYS[1], id)
          redis.call('HDEL', KEYS[7], id)
          pushReady(KEYS[2], KEYS[5], KEYS[6], id, redis.call('HGET', jk, 'n'), true)
          n = n + 1
        end
      end
      if n > 0 then
        ringDoorbell(KEYS[3])
      end
      return n
      """)

  /// Returns leased, unfinished jobs to their queue without charging an attempt.
  @discardableResult
  public func handBack(queue: String, _ jobs: [(id: String, token: String)]) async throws -> Int {
    if jobs.isEmpty { return 0 }
    let keys = QueueKeys(queue: queue)
    let reply = try await redis.evaluate(
      Self.handBackScript,
      keys: [
        keys.leased, keys.ready, keys.wake, keys.jobPrefix, keys.ring, keys.ringMembers,
        keys.leases,
      ],
      arguments: jobs.flatMap { [$0.id, $0.token] })
    return Int(reply.int ?? 0)
  }
}
