import RedisClient

/// A job some worker holds under a lease right now.
public struct RunningJob: Sendable, Equatable {
  public var id: String
  public var queue: String
  public var type: String
  public var tenant: String?
  /// The worker that holds it: its lease token is `<worker name>:<fetch number>`.
  public var worker: String
  /// The lease token of this run: what hands it back or cancels it, and no later run.
  public var token: String
  /// This run's attempt, counting from 1.
  public var attempt: Int
  public var maxAttempts: Int
  /// When this run started and when its lease runs out unless extended (Redis ms).
  public var startedAt: Int64?
  public var leaseDeadline: Int64
}

extension Broker {
  // KEYS[1] -> whago:{q}:leased
  // KEYS[2] -> whago:{q}:job:   (prefix)
  // KEYS[3] -> whago:{q}:leases
  // ARGV[1] -> most jobs to list
  // Output: {now, then 7 values per job: id, lease deadline, type, tenant, attempts, max attempts,
  //          started at, lease token}   (read only: one snapshot of the queue's leases)
  static let runningScript = RedisScript(
    "running",
    LuaClock.now + LuaLease.functions + """
      local out = {now}
      local leased = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
      for i = 1, #leased, 2 do
        local ok, f = pcall(redis.call, 'HMGET', KEYS[2] .. leased[i], 't', 'n', 'a', 'm', 'sa', 'l')
        if not ok then f = {} end
        local lease = redis.call('HGET', KEYS[3], leased[i])
        if lease then
          f[5] = leaseStart(lease)
          f[6] = string.sub(lease, 1, #lease - #f[5] - 1)
        end
        out[#out + 1] = leased[i]; out[#out + 1] = leased[i + 1]
        for j = 1, 6 do out[#out + 1] = f[j] or '' end
      end
      return out
      """)

  /// The jobs running on `queue`, soonest lease deadline first, at most `limit`.
  public func runningJobs(queue: String, limit: Int = 100) async throws -> [RunningJob] {
    let keys = QueueKeys(queue: queue)
    let reply = try await redis.evaluate(
      Self.runningScript, keys: [keys.leased, keys.jobPrefix, keys.leases], arguments: [String(max(1, limit))])
    let items = reply.array ?? []
    var jobs: [RunningJob] = []
    for i in stride(from: 1, to: items.count - 7, by: 8) {
      let token = items.string(i + 7) ?? ""
      let worker = token.lastIndex(of: ":").map { String(token[..<$0]) } ?? token
      let tenant = items.string(i + 3) ?? ""
      jobs.append(
        RunningJob(
          id: items.string(i) ?? "", queue: queue, type: items.string(i + 2) ?? "",
          tenant: tenant.isEmpty ? nil : tenant, worker: worker, token: token,
          attempt: (Int(items.string(i + 4) ?? "") ?? 0) + 1, maxAttempts: Int(items.string(i + 5) ?? "") ?? 0,
          startedAt: items.string(i + 6).flatMap { Int64($0) },
          leaseDeadline: items.string(i + 1).flatMap { Double($0) }.map { Int64($0) } ?? 0))
    }
    return jobs
  }
}
