import RedisClient

extension Broker {
  // KEYS[1] -> whago:{q}:leased
  // KEYS[2] -> whago:{q}:scheduled
  // KEYS[3] -> whago:{q}:stats
  // KEYS[4] -> whago:{q}:wake
  // KEYS[5] -> whago:{q}:job:   (prefix)
  // KEYS[6] -> whago:{q}:leases
  // ARGV[1] -> job id
  // ARGV[2] -> lease token
  // ARGV[3] -> due time, Redis ms (absolute: the moment the job's tokens exist)
  // ARGV[4] -> 1 when the tokens are already taken (reserved) for that moment, else 0
  // Output: 1 when deferred, 0 when the lease was lost
  // A job that found no token is not failed and not charged an attempt: it goes back to the
  // scheduled set for the moment its tokens exist.
  static let deferScript = RedisScript(
    "defer",
    LuaReady.functions + LuaLease.functions + """
      local id = ARGV[1]
      local jk = KEYS[5] .. id
      if not leaseHeldBy(redis.call('HGET', KEYS[6], id), ARGV[2]) then return 0 end
      redis.call('ZREM', KEYS[1], id)
      redis.call('HDEL', KEYS[6], id)
      redis.call('ZADD', KEYS[2], ARGV[3], id)
      redis.call('HSET', jk, 's', 'scheduled', 'd', ARGV[3])
      if ARGV[4] == '1' then redis.call('HSET', jk, 'rt', ARGV[3]) else redis.call('HDEL', jk, 'rt') end
      redis.call('HINCRBY', KEYS[3], 'deferred', 1)
      ringDoorbell(KEYS[4])
      return 1
      """)

  /// Returns a leased job to the scheduled set until `until` (Redis ms), charging nothing.
  @discardableResult
  public func `defer`(_ job: LeasedJob, until: Int64, tokensReserved: Bool) async throws -> Bool {
    let keys = QueueKeys(queue: job.queue)
    let reply = try await redis.evaluate(
      Self.deferScript, keys: [keys.leased, keys.scheduled, keys.stats, keys.wake, keys.jobPrefix, keys.leases],
      arguments: [job.id, job.token, String(until), tokensReserved ? "1" : "0"])
    return reply.int == 1
  }
}
