import RedisClient

extension Broker {
  // KEYS[1] -> whago:{q}:scheduled
  // KEYS[2] -> whago:{q}:ready
  // KEYS[3] -> whago:{q}:stats
  // KEYS[4] -> whago:{q}:wake
  // KEYS[5] -> whago:{q}:job:   (prefix)
  // KEYS[6] -> whago:{q}:ring
  // KEYS[7] -> whago:{q}:ring:members
  // KEYS[8] -> whago:{q}:scheduled:tenant:   (prefix; a job made ready no longer counts under its cap)
  // ARGV    -> job ids
  // Output: how many became ready (ids no longer waiting are skipped, so it can be re-run safely)
  // The job keeps its attempts; rate-limit tokens reserved for its old due time are dropped, so
  // it takes tokens anew and the limit still holds.
  static let runNowScript = RedisScript(
    "runNow",
    LuaReady.functions + """
      local n = 0
      for i = 1, #ARGV do
        local id = ARGV[i]
        local jk = KEYS[5] .. id
        if redis.call('ZREM', KEYS[1], id) == 1 then
          if redis.call('TYPE', jk)['ok'] == 'hash' and redis.call('HGET', jk, 's') == 'scheduled' then
            redis.call('HSET', jk, 's', 'ready')
            redis.call('HDEL', jk, 'rt')
            local tenant = redis.call('HGET', jk, 'n')
            if tenant then redis.call('ZREM', KEYS[8] .. tenant, id) end
            pushReady(KEYS[2], KEYS[6], KEYS[7], id, tenant, true)
            n = n + 1
          end
        end
      end
      if n > 0 then
        redis.call('HINCRBY', KEYS[3], 'promoted', n)
        ringDoorbell(KEYS[4])
      end
      return n
      """)

  // KEYS[1] -> whago:{q}:scheduled
  // KEYS[2] -> whago:{q}:finished
  // KEYS[3] -> whago:{q}:stats
  // KEYS[4] -> whago:{q}:job:   (prefix)
  // KEYS[5] -> whago:{q}:scheduled:tenant:   (prefix)
  // ARGV    -> job ids
  // Output: how many were cancelled (ids no longer waiting are skipped)
  // Cancelled, not erased: the job stays readable (and on its tenant's record) for the retention
  // window like any finished job.
  static let cancelWaitingScript = RedisScript(
    "cancelWaiting",
    LuaClock.now + """
      local n = 0
      for i = 1, #ARGV do
        local id = ARGV[i]
        local jk = KEYS[4] .. id
        if redis.call('ZREM', KEYS[1], id) == 1 then
          if redis.call('TYPE', jk)['ok'] == 'hash' then
            redis.call('HSET', jk, 's', 'cancelled', 'f', now)
            local tenant = redis.call('HGET', jk, 'n')
            if tenant then redis.call('ZREM', KEYS[5] .. tenant, id) end
          end
          redis.call('ZADD', KEYS[2], now, id)
          n = n + 1
        end
      end
      if n > 0 then redis.call('HINCRBY', KEYS[3], 'cancelled', n) end
      return n
      """)

  /// Makes waiting jobs (delayed, retrying or deferred) ready now, at the front of their lanes.
  @discardableResult
  public func runNow(queue: String, ids: [String]) async throws -> Int {
    if ids.isEmpty { return 0 }
    let k = QueueKeys(queue: queue)
    let reply = try await redis.evaluate(
      Self.runNowScript,
      keys: [k.scheduled, k.ready, k.stats, k.wake, k.jobPrefix, k.ring, k.ringMembers, k.tenantScheduledPrefix],
      arguments: ids)
    return Int(reply.int ?? 0)
  }

  /// Cancels waiting jobs; ids that already became ready, ran or went are skipped.
  @discardableResult
  public func cancelWaiting(queue: String, ids: [String]) async throws -> Int {
    if ids.isEmpty { return 0 }
    let k = QueueKeys(queue: queue)
    let reply = try await redis.evaluate(
      Self.cancelWaitingScript, keys: [k.scheduled, k.finished, k.stats, k.jobPrefix, k.tenantScheduledPrefix],
      arguments: ids)
    return Int(reply.int ?? 0)
  }
}
