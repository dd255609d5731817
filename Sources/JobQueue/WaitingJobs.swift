import Foundation
import RedisClient

/// A job in a queue's scheduled set: delayed by its producer, waiting for its next attempt after a
/// failure, or deferred until its rate-limit tokens exist.
public struct WaitingJob: Sendable, Equatable {
  public var id: String
  public var queue: String
  public var type: String
  public var tenant: String?
  /// When it becomes ready (Redis ms).
  public var dueAt: Int64
  /// Attempts already made: 0 for a job that never ran.
  public var attempts: Int
  public var maxAttempts: Int
  /// The last recorded error, for jobs that ran before.
  public var lastError: String?
}

/// Which waiting jobs: the two pages operators know from Sidekiq.
public enum WaitingKind: String, Sendable, CaseIterable {
  /// Never ran: delayed by whoever enqueued it (or a cron slot ahead).
  case scheduled
  /// Ran and failed at least once, waiting for its next attempt.
  case retries
}

extension Broker {
  // KEYS[1] -> whago:{q}:scheduled
  // KEYS[2] -> whago:{q}:job:       (prefix)
  // KEYS[3] -> whago:{q}:history:   (prefix)
  // ARGV[1] -> offset into the scheduled set, soonest due first
  // ARGV[2] -> window: how many scheduled jobs this call looks at (bounded, so Redis never blocks long)
  // ARGV[3] -> 'scheduled' (never ran), 'retries' (ran before) or '' (both)
  // ARGV[4] -> job type ('' any), ARGV[5] -> tenant ('' any), ARGV[6] -> lowercase error text ('' any)
  // Output: {next offset or -1 at the end, then 7 values per match: id, due, type, tenant, attempts,
  //          max attempts, last error}   (read only)
  static let waitingScanScript = RedisScript(
    "waitingScan",
    """
    local offset, window = tonumber(ARGV[1]), tonumber(ARGV[2])
    local entries = redis.call('ZRANGE', KEYS[1], offset, offset + window - 1, 'WITHSCORES')
    local out = {-1}
    if #entries == window * 2 then out[1] = offset + window end
    for i = 1, #entries, 2 do
      local id = entries[i]
      local okFields, f = pcall(redis.call, 'HMGET', KEYS[2] .. id, 't', 'n', 'a', 'm')
      if not okFields then f = {'(damaged record)', false, false, false} end
      local attempts = tonumber(f[3] or 0) or 0
      local ok = ARGV[3] == '' or (ARGV[3] == 'retries') == (attempts > 0)
      ok = ok and (ARGV[4] == '' or f[1] == ARGV[4]) and (ARGV[5] == '' or f[2] == ARGV[5])
      local lastError = ''
      if ok and attempts > 0 then
        local okLast, last = pcall(redis.call, 'LINDEX', KEYS[3] .. id, -1)
        if okLast and last then
          local decoded, record = pcall(cjson.decode, last)
          if decoded and type(record) == 'table' and record['error'] then lastError = tostring(record['error']) end
        end
      end
      if ok and ARGV[6] ~= '' and not string.find(string.lower(lastError), ARGV[6], 1, true) then ok = false end
      if ok then
        local n = #out
        out[n + 1] = id
        out[n + 2] = entries[i + 1]
        out[n + 3] = f[1] or ''
        out[n + 4] = f[2] or ''
        out[n + 5] = tostring(attempts)
        out[n + 6] = f[4] or '0'
        out[n + 7] = lastError
      end
    end
    return out
    """)

  /// The waiting jobs of `queue` of one kind (nil: both) matching `filter`, soonest due first, at
  /// most `limit`.
  /// Scans the scheduled set in windows of `window` per script call, so a million delayed jobs
  /// never block Redis for long.
  public func waitingJobs(
    queue: String, kind: WaitingKind?, filter: JobFilter = JobFilter(), limit: Int = .max, window: Int = 2_000
  ) async throws -> [WaitingJob] {
    let k = QueueKeys(queue: queue)
    return try await scanInWindows(
      Self.waitingScanScript, keys: [k.scheduled, k.jobPrefix, k.historyPrefix],
      arguments: [
        kind?.rawValue ?? "", filter.type ?? "", filter.tenant ?? "", filter.errorContains?.lowercased() ?? "",
      ], limit: limit, window: window
    ) { m in
      WaitingJob(
        id: m.text(0), queue: queue, type: m.text(2), tenant: m.optional(3), dueAt: m.time(1), attempts: m.number(4),
        maxAttempts: m.number(5), lastError: m.optional(6))
    }
  }
}
