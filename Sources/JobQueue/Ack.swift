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
  // KEYS[7] -> whago:{q}:leases
  // KEYS[8] -> whago:{q}:starts
  // ARGV[1] -> retention ms, ARGV[2] -> retention count
  // ARGV[3..] -> pairs: job id, lease token
  // Output: one 1 (acked) or 0 (lease lost) per pair
  // Nothing is written per job: the batch's leases are read in one HMGET and ended in one HDEL,
  // and its jobs go into the finished set (their finish time is their score) and their start
  // times into the starts hash, one command each. A done job's record keeps saying ready; being
  // in the finished set is what makes it done (jobState, the inspector).
  static let ackScript = RedisScript(
    "ack",
    LuaClock.now + LuaRetention.trim + LuaThroughput.count + LuaLease.functions + """
      local out = {}
      local done, finished, starts = {}, {}, {}
      local ids = {}
      for i = 3, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
      -- A lease is removed whenever it ends (ack, fail, recovery, hand back, snooze), so finding
      -- this token in it proves this run is still the live one.
      local leases = redis.call('HMGET', KEYS[7], unpack(ids))
      -- A batch's jobs share one lease value: it is matched and parsed once.
      local holder, started = {}, {}
      local seen = {}
      for j, id in ipairs(ids) do
        local lease, token = leases[j], ARGV[2 * j + 2]
        local held = lease and holder[lease] == token
        if lease and not held and leaseHeldBy(lease, token) then
          holder[lease] = token
          started[lease] = leaseStart(lease)
          held = true
        end
        if held and not seen[id] then
          seen[id] = true
          done[#done + 1] = id
          starts[#starts + 1] = id
          starts[#starts + 1] = started[lease]
          finished[#finished + 1] = nowText
          finished[#finished + 1] = id
          out[#out + 1] = 1
        else
          out[#out + 1] = 0
        end
      end
      if #done > 0 then
        redis.call('ZREM', KEYS[1], unpack(done))
        redis.call('HDEL', KEYS[7], unpack(done))
        redis.call('ZADD', KEYS[2], unpack(finished))
        redis.call('HSET', KEYS[8], '#', leasesPad, unpack(starts))
        redis.call('HINCRBY', KEYS[3], 'processed', #done)
        countMinute(KEYS[6], 'p:', #done)
      end
      trimFinished(KEYS[2], KEYS[4], KEYS[5], KEYS[8], tonumber(ARGV[1]), tonumber(ARGV[2]))
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
      Self.ackScript,
      keys: [
        keys.leased, keys.finished, keys.stats, keys.jobPrefix, keys.historyPrefix, keys.minutes,
        keys.leases, keys.starts,
      ],
      arguments: args)
    guard let items = reply.array, items.count == jobs.count else {
      throw QueueError.unexpectedReply(operation: "ack", detail: "\(reply)")
    }
    return items.map { $0.int == 1 ? .acked : .leaseLost }
  }
}
