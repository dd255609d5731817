/// Lua shared by the scripts that create jobs (enqueue, cron fire), so a job record has one shape.
enum LuaJob {
  /// `createJob(jobPrefix, id, type, payload, maxAttempts, due, key, tenant)` writes the job hash and
  /// returns its state, 'ready' or 'scheduled'; the caller files the id and counts it.
  /// Fields: t type, p payload, m max attempts, s state, e enqueued at, d due, k idempotency key,
  /// n tenant;
  /// later a attempts, c crashes, sa started at and f finished at (dead and cancelled jobs; a running
  /// job's start is in its lease and a done job's in `QueueKeys.starts`, its finish is its score in
  /// the finished set, and its state stays 'ready': see `LuaLease`), rt reserved tokens, cs the cron
  /// slot a scheduled job was made for (schedule time); l was the lease token before lease layout 2.
  static let create = """
    local function createJob(jobPrefix, id, typ, payload, maxAttempts, due, key, tenant)
      local jk = jobPrefix .. id
      local state = 'ready'
      if due > now then state = 'scheduled' end
      -- One HSET per job: every call is also a command in the append-only file and to replicas,
      -- and a tenant's job (every job submitted over HTTP) used to cost two.
      if key == '' and tenant == '' and state == 'ready' then
        redis.call('HSET', jk, 't', typ, 'p', payload, 'm', maxAttempts, 's', state, 'e', nowText)
      else
        local fields = {'t', typ, 'p', payload, 'm', maxAttempts, 's', state, 'e', nowText}
        if key ~= '' then fields[#fields + 1] = 'k'; fields[#fields + 1] = key end
        if tenant ~= '' then fields[#fields + 1] = 'n'; fields[#fields + 1] = tenant end
        if state == 'scheduled' then fields[#fields + 1] = 'd'; fields[#fields + 1] = due end
        redis.call('HSET', jk, unpack(fields))
      end
      return state
    end

    """
}
