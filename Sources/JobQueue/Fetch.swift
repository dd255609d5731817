import RedisClient

extension Broker {
  // KEYS[1] -> whago:{q}:ready
  // KEYS[2] -> whago:{q}:scheduled
  // KEYS[3] -> whago:{q}:leased
  // KEYS[4] -> whago:{q}:paused
  // KEYS[5] -> whago:{q}:wake
  // KEYS[6] -> whago:{q}:job:      (prefix)
  // KEYS[7] -> whago:{q}:ring
  // KEYS[8] -> whago:{q}:ring:members
  // KEYS[9] -> whago:{q}:weights  (tenant -> weight; absent: equal shares)
  // KEYS[10] -> whago:{q}:leases  (job id -> lease; see LuaLease)
  // ARGV[1] -> most jobs to lease
  // ARGV[2] -> lease duration ms
  // ARGV[3] -> lease token
  // ARGV[4] -> most due jobs to promote from scheduled to ready
  // Output: {paused (0/1), ms until next due job (-1: none), now,
  //          then 10 values per job: id, type, payload, attempts, max attempts, crashes, ready at (the later of enqueued and due),
  //          corruption reason ('' when the record is sound), reserved token time (-1: none), tenant ('' none)}
  // Due jobs are promoted first and go to the consumer end of the ready list, so a delayed job
  // starts at its due time even behind a long backlog. When work remains, the doorbell is rung
  // again so the next idle worker wakes too. The batch's leases are one HSET; the jobs' records are
  // only read.
  static let fetchScript = RedisScript(
    "fetch",
    LuaClock.now + LuaReady.functions + LuaLease.functions + """
      local function nextDue()
        local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
        if first[2] then return math.max(0, tonumber(first[2]) - now) end
        return -1
      end
      if redis.call('EXISTS', KEYS[4]) == 1 then return {1, nextDue(), now} end
      local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[4]))
      for _, id in ipairs(due) do
        redis.call('ZREM', KEYS[2], id)
        local ok, tenant = pcall(redis.call, 'HGET', KEYS[6] .. id, 'n')
        if ok then redis.call('HSET', KEYS[6] .. id, 's', 'ready') else tenant = false end
        pushReady(KEYS[1], KEYS[7], KEYS[8], id, tenant, true)
      end
      local out = {0, 0, now}
      local ids = popReady(KEYS[1], KEYS[7], KEYS[8], KEYS[9], tonumber(ARGV[1]))
      if #ids > 0 then
        local deadline = string.format('%d', now + tonumber(ARGV[2]))
        local lease = ARGV[3] .. '@' .. nowText
        local leases, held = {}, {}
        -- The record is read whole (HGETALL: one pass over its listpack and two arguments) rather
        -- than by ten names, each its own scan and argument object; the fields used land in place.
        local place = {t = 1, p = 2, a = 3, m = 4, c = 5, e = 6, s = 7, rt = 8, n = 9, d = 10}
        for _, id in ipairs(ids) do
          local jk = KEYS[6] .. id
          local ok, all = pcall(redis.call, 'HGETALL', jk)
          local f = {}
          if ok then
            for k = 1, #all, 2 do
              local at = place[all[k]]
              if at then f[at] = all[k + 1] end
            end
          end
          local corrupt = ''
          if not ok then
            corrupt = 'job record is not a hash (' .. redis.call('TYPE', jk)['ok'] .. ')'
            f = {}
          elseif not f[1] and not f[2] and not f[7] then
            corrupt = 'job record is missing'
          elseif not f[1] or not f[2] then
            corrupt = 'job record lacks its type or payload'
          elseif f[7] == 'cancelled' then
            corrupt = nil
          end
          if corrupt ~= nil then
            if corrupt == '' then
              held[#held + 1] = id
              held[#held + 1] = lease
            end
            leases[#leases + 1] = deadline
            leases[#leases + 1] = id
            local n = #out
            out[n + 1] = id; out[n + 2] = f[1] or ''; out[n + 3] = f[2] or ''
            out[n + 4] = tonumber(f[3] or 0) or 0; out[n + 5] = tonumber(f[4] or 1) or 1
            out[n + 6] = tonumber(f[5] or 0) or 0
            out[n + 7] = math.max(tonumber(f[6] or 0) or 0, tonumber(f[10] or 0) or 0)
            out[n + 8] = corrupt; out[n + 9] = tonumber(f[8] or -1) or -1; out[n + 10] = f[9] or ''
          end
        end
        if #leases > 0 then redis.call('ZADD', KEYS[3], unpack(leases)) end
        if #held > 0 then redis.call('HSET', KEYS[10], '#', leasesPad, unpack(held)) end
        if redis.call('LLEN', KEYS[7]) > 0 then
          ringDoorbell(KEYS[5])
        end
      end
      out[2] = nextDue()
      return out
      """)

  /// Leases up to `limit` jobs from `queue`, promoting due scheduled jobs first.
  public func fetch(queue: String, limit: Int, lease: Duration, token: String, promoteLimit: Int = 1000)
    async throws -> FetchResult
  {
    let keys = QueueKeys(queue: queue)
    let reply = try await redis.evaluate(
      Self.fetchScript,
      keys: [
        keys.ready, keys.scheduled, keys.leased, keys.paused, keys.wake, keys.jobPrefix, keys.ring, keys.ringMembers,
        keys.weights, keys.leases,
      ],
      arguments: [String(max(1, limit)), String(lease.milliseconds), token, String(promoteLimit)])
    guard let items = reply.array, items.count >= 3, (items.count - 3) % 10 == 0 else {
      throw QueueError.unexpectedReply(operation: "fetch", detail: "\(reply)")
    }
    let leasedAt = items.int(2)
    var jobs: [LeasedJob] = []
    jobs.reserveCapacity((items.count - 3) / 10)
    var i = 3
    while i < items.count {
      let corruption = items.string(i + 7) ?? ""
      jobs.append(
        LeasedJob(
          id: items.string(i) ?? "", queue: queue, type: items.string(i + 1) ?? "",
          payload: items.string(i + 2) ?? "", attempts: Int(items.int(i + 3)), maxAttempts: Int(items.int(i + 4)),
          crashes: Int(items.int(i + 5)), token: token, readyAt: items.int(i + 6), leasedAt: leasedAt,
          corruption: corruption.isEmpty ? nil : corruption,
          tokensReservedFor: items.int(i + 8) >= 0 ? items.int(i + 8) : nil,
          tenant: items.string(i + 9).flatMap { $0.isEmpty ? nil : $0 }))
      i += 10
    }
    let wait = items.int(1)
    return FetchResult(jobs: jobs, nextDueIn: wait >= 0 ? wait : nil, paused: items.int(0) == 1)
  }
}
