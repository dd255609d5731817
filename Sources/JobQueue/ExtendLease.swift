import RedisClient

extension Broker {
  // KEYS[1] -> whago:{q}:leased
  // KEYS[2] -> whago:{q}:job:   (prefix)
  // KEYS[3] -> whago:{q}:leases
  // KEYS[4] -> whago:{q}:finished
  // ARGV[1] -> lease duration ms from now
  // ARGV[2..] -> pairs: job id, lease token
  // Output: ids whose lease was lost to another run (expired and recovered); finished ones are not
  static let extendScript = RedisScript(
    "extendLease",
    LuaClock.now + LuaLease.functions + """
      local deadline = now + tonumber(ARGV[1])
      local lost = {}
      for i = 2, #ARGV, 2 do
        local id = ARGV[i]
        if redis.call('ZSCORE', KEYS[1], id) and leaseHeldBy(redis.call('HGET', KEYS[3], id), ARGV[i + 1]) then
          redis.call('ZADD', KEYS[1], 'XX', deadline, id)
        else
          -- Gone because it finished (ack landed meanwhile) is not lost; back in play elsewhere, or
          -- cancelled by an operator while it ran, is: the run must stop.
          local state = jobState(KEYS[3], KEYS[4], KEYS[2] .. id, id)
          if state == 'ready' or state == 'active' or state == 'scheduled' or state == 'cancelled' then
            lost[#lost + 1] = id
          end
        end
      end
      return lost
      """)

  /// Pushes the lease deadline of running jobs forward, so long jobs are not recovered while alive.
  /// Returns the ids whose lease was lost.
  public func extendLeases(queue: String, _ jobs: [(id: String, token: String)], by lease: Duration)
    async throws -> [String]
  {
    if jobs.isEmpty { return [] }
    let keys = QueueKeys(queue: queue)
    let reply = try await redis.evaluate(
      Self.extendScript, keys: [keys.leased, keys.jobPrefix, keys.leases, keys.finished],
      arguments: [String(lease.milliseconds)] + jobs.flatMap { [$0.id, $0.token] })
    return (reply.array ?? []).compactMap(\.string)
  }
}
