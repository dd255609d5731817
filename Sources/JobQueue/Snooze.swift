import RedisClient

/// A leased job to put back as the same job, to run again `delay` from Redis now.
public struct SnoozeRequest: Sendable {
  public let id: String
  public let token: String
  public let delay: Duration

  public init(id: String, token: String, delay: Duration) {
    self.id = id
    self.token = token
    self.delay = delay
  }
}

extension Broker {
  // KEYS[1] -> whago:{q}:leased
  // KEYS[2] -> whago:{q}:scheduled
  // KEYS[3] -> whago:{q}:stats
  // KEYS[4] -> whago:{q}:wake
  // KEYS[5] -> whago:{q}:job:   (prefix)
  // KEYS[6] -> whago:{q}:leases
  // ARGV    -> triples: job id, lease token, delay (ms from Redis now)
  // Output: per triple, the due time (Redis ms), or 0 when the lease was lost
  // A job that finished one step of long work (one message of a campaign's chip) comes back later
  // as the same job: its attempts and crashes start over, since they count failures of one step.
  // Many jobs' snoozes share a call, as acks do; each job's change is whole in it.
  static let snoozeScript = RedisScript(
    "snooze",
    LuaReady.functions + LuaClock.now + LuaLease.functions + """
      local out = {}
      local snoozed = 0
      for i = 1, #ARGV, 3 do
        local id = ARGV[i]
        local jk = KEYS[5] .. id
        if leaseHeldBy(redis.call('HGET', KEYS[6], id), ARGV[i + 1]) then
          local due = now + math.max(0, tonumber(ARGV[i + 2]))
          redis.call('ZREM', KEYS[1], id)
          redis.call('HDEL', KEYS[6], id)
          redis.call('ZADD', KEYS[2], due, id)
          redis.call('HSET', jk, 's', 'scheduled', 'd', due, 'a', 0, 'c', 0)
          redis.call('HDEL', jk, 'rt')
          snoozed = snoozed + 1
          out[#out + 1] = due
        else
          out[#out + 1] = 0
        end
      end
      if snoozed > 0 then
        redis.call('HINCRBY', KEYS[3], 'snoozed', snoozed)
        ringDoorbell(KEYS[4])
      end
      return out
      """)

  /// Puts leased jobs of `queue` back to run again, each after its delay (Redis time), with a
  /// fresh attempt budget. One result per job: false when its lease was lost (another run owns
  /// the job now), and that job is left as it is.
  public func snooze(queue: String, _ jobs: [SnoozeRequest]) async throws -> [Bool] {
    if jobs.isEmpty { return [] }
    let keys = QueueKeys(queue: queue)
    var arguments: [String] = []
    arguments.reserveCapacity(jobs.count * 3)
    for job in jobs { arguments += [job.id, job.token, String(max(0, job.delay.milliseconds))] }
    let reply = try await redis.evaluate(
      Self.snoozeScript, keys: [keys.leased, keys.scheduled, keys.stats, keys.wake, keys.jobPrefix, keys.leases],
      arguments: arguments)
    guard let items = reply.array, items.count == jobs.count else {
      throw QueueError.unexpectedReply(operation: "snooze", detail: "\(reply)")
    }
    return items.map { ($0.int ?? 0) > 0 }
  }
}
