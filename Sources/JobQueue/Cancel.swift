import RedisClient

extension Broker {
  // KEYS[1] -> whago:{q}:ready
  // KEYS[2] -> whago:{q}:scheduled
  // KEYS[3] -> whago:{q}:finished
  // KEYS[4] -> whago:{q}:stats
  // KEYS[5] -> whago:{q}:job:   (prefix)   (a tenant's lane is KEYS[1] .. ':' .. tenant)
  // KEYS[6] -> whago:{q}:scheduled:tenant:  (prefix; a cancelled job no longer counts under its cap)
  // KEYS[7] -> whago:{q}:leases
  // ARGV[1] -> job id
  // Output: {'cancelled'} or {'refused', current state} or {'missing'}
  static let cancelScript = RedisScript(
    "cancel",
    LuaClock.now + LuaReady.functions + LuaLease.functions + """
      local jk = KEYS[5] .. ARGV[1]
      local state = jobState(KEYS[7], KEYS[3], jk, ARGV[1])
      if not state then return {'missing'} end
      if state == 'ready' then
        redis.call('LREM', laneKey(KEYS[1], redis.call('HGET', jk, 'n')), 1, ARGV[1])
      elseif state == 'scheduled' then
        redis.call('ZREM', KEYS[2], ARGV[1])
        local tenant = redis.call('HGET', jk, 'n')
        if tenant then redis.call('ZREM', KEYS[6] .. tenant, ARGV[1]) end
      else
        return {'refused', state}
      end
      redis.call('HSET', jk, 's', 'cancelled', 'f', now)
      redis.call('ZADD', KEYS[3], now, ARGV[1])
      redis.call('HINCRBY', KEYS[4], 'cancelled', 1)
      return {'cancelled'}
      """)

  /// Cancels a job that has not started. A running or finished job is refused with its state.
  public func cancel(id: String) async throws {
    guard let queue = try await locate(id: id) else { throw QueueError.jobNotFound(id) }
    let keys = QueueKeys(queue: queue)
    let reply = try await redis.evaluate(
      Self.cancelScript,
      keys: [
        keys.ready, keys.scheduled, keys.finished, keys.stats, keys.jobPrefix, keys.tenantScheduledPrefix,
        keys.leases,
      ],
      arguments: [id])
    let items = reply.array ?? []
    switch items.string(0) {
    case "cancelled": return
    case "missing": throw QueueError.jobNotFound(id)
    case "refused":
      throw QueueError.notCancellable(id: id, state: JobState(rawValue: items.string(1) ?? "") ?? .unknown)
    default: throw QueueError.unexpectedReply(operation: "cancel", detail: "\(reply)")
    }
  }
}

extension Broker {
  // KEYS[1] -> whago:{q}:leased
  // KEYS[2] -> whago:{q}:finished
  // KEYS[3] -> whago:{q}:stats
  // KEYS[4] -> whago:{q}:job:       (prefix)
  // KEYS[5] -> whago:{q}:history:   (prefix)
  // KEYS[6] -> whago:{q}:leases
  // ARGV[1] -> job id, ARGV[2] -> the lease token of the run to stop, ARGV[3] -> who asked
  // Output: 1 when cancelled, 0 when that run no longer holds the job
  // The run's worker learns at its next lease extension that the job is gone (see the extend
  // script) and stops the run; its ack or failure then finds no lease and changes nothing.
  static let cancelRunningScript = RedisScript(
    "cancelRunning",
    LuaClock.now + LuaLease.functions + """
      local id = ARGV[1]
      local jk = KEYS[4] .. id
      local lease = redis.call('HGET', KEYS[6], id)
      if not redis.call('ZSCORE', KEYS[1], id) or not leaseHeldBy(lease, ARGV[2]) then return 0 end
      redis.call('ZREM', KEYS[1], id)
      redis.call('HDEL', KEYS[6], id)
      redis.call('HSET', jk, 's', 'cancelled', 'f', now, 'sa', leaseStart(lease))
      redis.call('HDEL', jk, 'rt')
      local attempt = (tonumber(redis.call('HGET', jk, 'a') or 0) or 0) + 1
      redis.call('RPUSH', KEYS[5] .. id,
        cjson.encode({attempt = attempt, error = 'cancelled while running by ' .. ARGV[3], at = now, kind = 'cancelled'}))
      redis.call('ZADD', KEYS[2], now, id)
      redis.call('HINCRBY', KEYS[3], 'cancelled', 1)
      return 1
      """)

  /// Cancels a running job: the run holding lease `token` is stopped and the job will not run
  /// again. Returns false when that run no longer holds it (it finished, failed or was recovered).
  public func cancelRunning(queue: String, id: String, token: String, by who: String) async throws -> Bool {
    let k = QueueKeys(queue: queue)
    let reply = try await redis.evaluate(
      Self.cancelRunningScript, keys: [k.leased, k.finished, k.stats, k.jobPrefix, k.historyPrefix, k.leases],
      arguments: [id, token, who])
    return reply.int == 1
  }
}
