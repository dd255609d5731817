import RedisClient

/// What became of one acknowledgement.
public enum AckOutcome: Int, Sendable {
  case acked = 1
  /// The lease had expired and the job belongs to another run now; this run's result is dropped.
  case leaseLost = 0
}

extension Broker {
  // KEYS[1] -> whago:{q}:leased
  // KEYS[2] -> whago:{q}:finished
  // KEYS[3] -> whago:{q}:stats
  // KEYS[4] -> whago:{q}:job:       (prefix)
  // KEYS[5] -> whago:{q}:history:   (prefix)
  // KEYS[6] -> whago:{q}:minutes
  // ARGV[1] -> retention ms, ARGV[2] -> retention count
  // ARGV[3..] -> pairs: job id, lease token
  // Output: one 1 (acked) or 0 (lease lost) per pair
  static let ackScript = RedisScript(
    "ack",
    LuaClock.now + LuaRetention.trim + LuaThroughput.count + """
      local out = {}
      local done, finished = {}, {}
      for i = 3, #ARGV, 2 do
        local id = ARGV[i]
        local jk = KEYS[4] .. id
        -- The token is cleared whenever a lease ends (ack, fail, recovery, hand back), so a
        -- matching token proves this lease is still the live one.
        if redis.call('HGET', jk, 'l') == ARGV[i + 1] then
          redis.call('HSET', jk, 's', 'done', 'f', nowText, 'l', '')
          done[#done + 1] = id
          finished[#finished + 1] = nowText
          finished[#finished + 1] = id
          out[#out + 1] = 1
        else
          out[#out + 1] = 0
        end
      end
      if #done > 0 then
        redis.call('ZREM', KEYS[1], unpack(done))
        redis.call('ZADD', KEYS[2], unpack(finished))
        redis.call('HINCRBY', KEYS[3], 'processed', #done)
        countMinute(KEYS[6], 'p:', #done)
      end
      trimFinished(KEYS[2], KEYS[4], KEYS[5], tonumber(ARGV[1]), tonumber(ARGV[2]))
      return out
      """)

  /// Marks finished jobs of one queue done, in one script. Ack of an expired lease is refused.
  public func ack(queue: String, _ jobs: [(id: String, token: String)], retention: Retention = Retention())
    async throws -> [AckOutcome]
  {
    if jobs.isEmpty { return [] }
    let keys = QueueKeys(queue: queue)
    var args = [String(retention.age.milliseconds), String(retention.count)]
    args.reserveCapacity(2 + jobs.count * 2)
    for job in jobs { args += [job.id, job.token] }
    let reply = try await redis.evaluate(
      Self.ackScript, keys: [keys.leased, keys.finished, keys.stats, keys.jobPrefix, keys.historyPrefix, keys.minutes],
      arguments: args)
    guard let items = reply.array, items.count == jobs.count else {
      throw QueueError.unexpectedReply(operation: "ack", detail: "\(reply)")
    }
    return items.map { $0.int == 1 ? .acked : .leaseLost }
  }
}
