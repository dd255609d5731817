import RedisClient

/// What one recovery pass did.
public struct RecoveryResult: Sendable, Equatable {
  /// Jobs whose lease expired and that went back to the ready list.
  public var requeued: Int
  /// Jobs that had now crashed their worker too often and were dead-lettered.
  public var dead: Int

  public init(requeued: Int, dead: Int) {
    self.requeued = requeued
    self.dead = dead
  }
}

extension Broker {
  // KEYS[1] -> whago:{q}:leased
  // KEYS[2] -> whago:{q}:ready
  // KEYS[3] -> whago:{q}:dead
  // KEYS[4] -> whago:{q}:stats
  // KEYS[5] -> whago:{q}:wake
  // KEYS[6] -> whago:{q}:job:       (prefix)
  // KEYS[7] -> whago:{q}:history:   (prefix)
  // KEYS[8] -> whago:{q}:ring
  // KEYS[9] -> whago:{q}:ring:members
  // KEYS[10] -> whago:{q}:leases
  // ARGV[1] -> crash limit: dead-letter a job whose lease expired this many times
  // ARGV[2] -> most jobs to recover in this call
  // ARGV[3] -> history length kept
  // ARGV[4] -> outage gap ms: no sweep of this queue for this long means Redis was down or unreachable
  // ARGV[5] -> grace ms given to leases that expired during such a gap
  // Output: {requeued, dead}
  // An expired lease means the worker died (kill -9, OOM, host loss). That is not the job's
  // failure, so no attempt is charged; the crash counter stops a job that kills every worker.
  // But leases also expire when Redis itself is away (a restart, a failover) and no worker can
  // extend them: that is no crash. The queue remembers when it was last swept ('swept' in its
  // stats, restored with the data); a sweep that finds no sweep ran for a whole outage gap gives
  // every expired lease one more grace period instead, in which live workers extend theirs. A
  // worker that really died meanwhile loses its jobs one grace period later, and that counts.
  static let recoverScript = RedisScript(
    "recover",
    LuaClock.now + LuaReady.functions + """
      local last = tonumber(redis.call('HGET', KEYS[4], 'swept') or '0') or 0
      redis.call('HSET', KEYS[4], 'swept', now)
      if last > 0 and now - last > tonumber(ARGV[4]) then
        local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
        for _, id in ipairs(stale) do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[5]), id) end
        if #stale > 0 then redis.call('HINCRBY', KEYS[4], 'outage_graces', #stale) end
        return {0, 0}
      end
      local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
      local requeued, dead = 0, 0
      for _, id in ipairs(expired) do
        local jk = KEYS[6] .. id
        redis.call('ZREM', KEYS[1], id)
        redis.call('HDEL', KEYS[10], id)
        local crashes = 1
        local isHash = redis.call('TYPE', jk)['ok'] == 'hash'
        if isHash then
          crashes = redis.call('HINCRBY', jk, 'c', 1)
          -- A lease taken by an earlier version, kept in the record (see LuaLease).
          redis.call('HDEL', jk, 'l')
        end
        local hk = KEYS[7] .. id
        local reason = 'lease expired: its worker stopped responding (crash ' .. crashes .. ' of ' .. ARGV[1] .. ')'
        if isHash and crashes < tonumber(ARGV[1]) then
          redis.call('HSET', jk, 's', 'ready')
          pushReady(KEYS[2], KEYS[8], KEYS[9], id, redis.call('HGET', jk, 'n'), true)
          requeued = requeued + 1
        else
          reason = 'crashed its worker ' .. crashes .. ' times (crash limit ' .. ARGV[1] .. '): poison job'
          if isHash then redis.call('HSET', jk, 's', 'dead', 'f', now) end
          redis.call('ZADD', KEYS[3], now, id)
          dead = dead + 1
        end
        local attempt = 0
        if isHash then attempt = tonumber(redis.call('HGET', jk, 'a') or 0) or 0 end
        redis.call('RPUSH', hk, cjson.encode({attempt = attempt, error = reason, at = now, kind = 'crashed'}))
        redis.call('LTRIM', hk, -tonumber(ARGV[3]), -1)
      end
      if requeued > 0 then
        redis.call('HINCRBY', KEYS[4], 'recovered', requeued)
        ringDoorbell(KEYS[5])
      end
      if dead > 0 then redis.call('HINCRBY', KEYS[4], 'dead', dead) end
      return {requeued, dead}
      """)

  /// Returns jobs with expired leases to the front of the ready list, or dead-letters poison jobs.
  /// After a gap of `outageGap` without any sweep of the queue (Redis was away), expired leases get
  /// `grace` more instead, so an outage is not counted as a crash of every running job.
  public func recover(
    queue: String, crashLimit: Int = 3, limit: Int = 1000, historyLimit: Int = 50,
    outageGap: Duration = .seconds(5), grace: Duration = .seconds(15)
  ) async throws -> RecoveryResult {
    let keys = QueueKeys(queue: queue)
    let reply = try await redis.evaluate(
      Self.recoverScript,
      keys: [
        keys.leased, keys.ready, keys.dead, keys.stats, keys.wake, keys.jobPrefix, keys.historyPrefix, keys.ring,
        keys.ringMembers, keys.leases,
      ],
      arguments: [
        String(max(1, crashLimit)), String(limit), String(historyLimit), String(max(1, outageGap.milliseconds)),
        String(max(1, grace.milliseconds)),
      ])
    guard let items = reply.array, items.count == 2 else {
      throw QueueError.unexpectedReply(operation: "recover", detail: "\(reply)")
    }
    return RecoveryResult(requeued: Int(items.int(0)), dead: Int(items.int(1)))
  }
}
