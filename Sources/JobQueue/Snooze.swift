import RedisClient

extension Broker {
  // KEYS[1] -> whago:{q}:leased
  // KEYS[2] -> whago:{q}:scheduled
  // KEYS[3] -> whago:{q}:stats
  // KEYS[4] -> whago:{q}:wake
  // KEYS[5] -> whago:{q}:job:   (prefix)
  // ARGV[1] -> job id
  // ARGV[2] -> lease token
  // ARGV[3] -> delay, ms from Redis now
  // Output: the due time (Redis ms), or 0 when the lease was lost
  // A job that finished one step of long work (one message of a campaign's chip) comes back later
  // as the same job: its attempts and crashes start over, since they count failures of one step.
  static let snoozeScript = RedisScript(
    "snooze",
    LuaReady.functions + LuaClock.now + """
      local id = ARGV[1]
      local jk = KEYS[5] .. id
      if redis.call('HGET', jk, 'l') ~= ARGV[2] then return 0 end
      local due = now + math.max(0, tonumber(ARGV[3]))
      redis.call('ZREM', KEYS[1], id)
      redis.call('ZADD', KEYS[2], due, id)
      redis.call('HSET', jk, 's', 'scheduled', 'd', due, 'l', '', 'a', 0, 'c', 0)
      redis.call('HDEL', jk, 'rt')
      redis.call('HINCRBY', KEYS[3], 'snoozed', 1)
      ringDoorbell(KEYS[4])
      return due
      """)

  /// Puts a leased job back to run again after `delay` (Redis time), with a fresh attempt budget.
  /// Returns false when the lease was lost (another run owns the job now).
  @discardableResult
  public func snooze(_ job: LeasedJob, for delay: Duration) async throws -> Bool {
    let keys = QueueKeys(queue: job.queue)
    let (seconds, attoseconds) = delay.components
    let milliseconds = max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    let reply = try await redis.evaluate(
      Self.snoozeScript, keys: [keys.leased, keys.scheduled, keys.stats, keys.wake, keys.jobPrefix],
      arguments: [job.id, job.token, String(milliseconds)])
    return (reply.int ?? 0) > 0
  }
}
