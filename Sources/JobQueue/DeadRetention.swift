import RedisClient

extension Broker {
  // KEYS[1] -> whago:{q}:dead
  // KEYS[2] -> whago:{q}:stats
  // KEYS[3] -> whago:{q}:job:       (prefix)
  // KEYS[4] -> whago:{q}:history:   (prefix)
  // ARGV[1] -> how long a dead letter is kept (ms)
  // ARGV[2] -> how many are kept at most
  // ARGV[3] -> the most removed by this call
  // Removes dead letters older than the age, then the oldest past the count, each with its
  // record and history; counts them under 'expired'. Output: how many went.
  static let trimDeadScript = RedisScript(
    "trimDead",
    LuaClock.now + """
      local limit = tonumber(ARGV[3])
      local victims = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, limit)
      local excess = redis.call('ZCARD', KEYS[1]) - #victims - tonumber(ARGV[2])
      if excess > 0 and #victims < limit then
        local extra = redis.call('ZRANGE', KEYS[1], #victims, #victims + math.min(excess, limit - #victims) - 1)
        for _, id in ipairs(extra) do victims[#victims + 1] = id end
      end
      if #victims == 0 then return 0 end
      local keys = {}
      for _, id in ipairs(victims) do
        keys[#keys + 1] = KEYS[3] .. id
        keys[#keys + 1] = KEYS[4] .. id
      end
      redis.call('ZREM', KEYS[1], unpack(victims))
      redis.call('DEL', unpack(keys))
      redis.call('HINCRBY', KEYS[2], 'expired', #victims)
      return #victims
      """)

  /// Applies `retention` to `queue`'s dead letters: those older than its age, then the oldest past
  /// its count, go with their records and histories, 500 per script call so none runs long.
  /// Returns how many went.
  @discardableResult
  public func trimDead(queue: String, retention: Retention) async throws -> Int {
    let keys = QueueKeys(queue: queue)
    let ageMs = max(0, retention.age.milliseconds)
    var total = 0
    while true {
      let removed =
        try await redis.evaluate(
          Self.trimDeadScript, keys: [keys.dead, keys.stats, keys.jobPrefix, keys.historyPrefix],
          arguments: [String(ageMs), String(max(0, retention.count)), "500"]
        ).int.map(Int.init) ?? 0
      total += removed
      if removed < 500 { return total }
    }
  }
}
