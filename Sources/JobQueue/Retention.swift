/// How long finished jobs stay readable, so Redis memory does not grow with history.
public struct Retention: Sendable, Equatable {
  public var age: Duration
  public var count: Int

  public init(age: Duration = .seconds(3600), count: Int = 10_000) {
    self.age = age
    self.count = count
  }
}

enum LuaRetention {
  /// Trims the finished set by age and count, at most 200 records per call so no script runs long;
  /// steady traffic keeps it trimmed. Expects `now` to be in scope; `startsKey` is the hash of
  /// finished jobs' start times (`QueueKeys.starts`).
  static let trim = """
    local function trimFinished(finishedKey, jobPrefix, historyPrefix, startsKey, retentionMs, retentionCount)
      local victims = redis.call('ZRANGEBYSCORE', finishedKey, '-inf', now - retentionMs, 'LIMIT', 0, 200)
      local excess = redis.call('ZCARD', finishedKey) - #victims - retentionCount
      if excess > 0 then
        local extra = redis.call('ZRANGE', finishedKey, #victims, #victims + math.min(excess, 200) - 1)
        for _, id in ipairs(extra) do victims[#victims + 1] = id end
      end
      if #victims > 0 then
        local keys = {}
        for _, id in ipairs(victims) do
          keys[#keys + 1] = jobPrefix .. id
          keys[#keys + 1] = historyPrefix .. id
        end
        redis.call('ZREM', finishedKey, unpack(victims))
        redis.call('DEL', unpack(keys))
        redis.call('HDEL', startsKey, unpack(victims))
      end
    end

    """
}
