import RedisClient

/// What became of a failed run.
public enum FailOutcome: String, Sendable {
  /// Scheduled for another attempt after its backoff.
  case retrying
  /// Out of attempts or not retryable: now in the dead-letter set with its history.
  case dead
  /// The lease had expired; another run owns the job now.
  case leaseLost
}

extension Broker {
  // KEYS[1] -> whago:{q}:leased
  // KEYS[2] -> whago:{q}:scheduled
  // KEYS[3] -> whago:{q}:dead
  // KEYS[4] -> whago:{q}:stats
  // KEYS[5] -> whago:{q}:job:       (prefix)
  // KEYS[6] -> whago:{q}:history:   (prefix)
  // KEYS[7] -> whago:{q}:minutes
  // KEYS[8] -> whago:{q}:leases
  // ARGV[1] -> job id
  // ARGV[2] -> lease token ('' to skip the lease check: a corrupt record never had one)
  // ARGV[3] -> error message
  // ARGV[4] -> retry delay ms, or -1 when the failure is permanent
  // ARGV[5] -> history length kept
  // Output: 'retrying', 'dead' or 'leaseLost'
  static let failScript = RedisScript(
    "fail",
    LuaClock.now + LuaThroughput.count + LuaLease.functions + """
      local id = ARGV[1]
      local jk = KEYS[5] .. id
      if not redis.call('ZSCORE', KEYS[1], id) then return 'leaseLost' end
      local lease = redis.call('HGET', KEYS[8], id)
      if ARGV[2] ~= '' and not leaseHeldBy(lease, ARGV[2]) then return 'leaseLost' end
      redis.call('ZREM', KEYS[1], id)
      redis.call('HDEL', KEYS[8], id)
      local isHash = redis.call('TYPE', jk)['ok'] == 'hash'
      local attempt = 1
      local max = 1
      if isHash then
        attempt = redis.call('HINCRBY', jk, 'a', 1)
        max = tonumber(redis.call('HGET', jk, 'm') or 1) or 1
        -- A new attempt takes its rate-limit tokens anew.
        redis.call('HDEL', jk, 'rt')
        if lease then redis.call('HSET', jk, 'sa', leaseStart(lease)) end
      end
      local hk = KEYS[6] .. id
      redis.call('RPUSH', hk, cjson.encode({attempt = attempt, error = ARGV[3], at = now, kind = 'failed'}))
      redis.call('LTRIM', hk, -tonumber(ARGV[5]), -1)
      redis.call('HINCRBY', KEYS[4], 'failed', 1)
      countMinute(KEYS[7], 'f:', 1)
      local delay = tonumber(ARGV[4])
      if isHash and delay >= 0 and attempt < max then
        redis.call('HSET', jk, 's', 'scheduled', 'd', now + delay)
        redis.call('ZADD', KEYS[2], now + delay, id)
        redis.call('HINCRBY', KEYS[4], 'retried', 1)
        return 'retrying'
      end
      if isHash then redis.call('HSET', jk, 's', 'dead', 'f', now) end
      redis.call('ZADD', KEYS[3], now, id)
      redis.call('HINCRBY', KEYS[4], 'dead', 1)
      return 'dead'
      """)

  /// Records a failed run: schedules the next attempt after `retryAfter`, or dead-letters the job
  /// when `retryAfter` is nil (permanent failure) or its attempts are spent.
  public func fail(_ job: LeasedJob, error: String, retryAfter: Duration?, historyLimit: Int = 50)
    async throws -> FailOutcome
  {
    let keys = QueueKeys(queue: job.queue)
    let reply = try await redis.evaluate(
      Self.failScript,
      keys: [
        keys.leased, keys.scheduled, keys.dead, keys.stats, keys.jobPrefix, keys.historyPrefix, keys.minutes,
        keys.leases,
      ],
      arguments: [
        job.id, job.corruption == nil ? job.token : "", String(error.prefix(4000)),
        String(retryAfter.map { max(0, $0.milliseconds) } ?? -1), String(historyLimit),
      ])
    guard let outcome = reply.string.flatMap(FailOutcome.init(rawValue:)) else {
      throw QueueError.unexpectedReply(operation: "fail", detail: "\(reply)")
    }
    return outcome
  }
}
