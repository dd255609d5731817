import Foundation
import RedisClient

extension Broker {
  // KEYS[1] -> whago:{q}:dead
  // KEYS[2] -> whago:{q}:job:       (prefix)
  // KEYS[3] -> whago:{q}:history:   (prefix)
  // ARGV[1] -> offset into the dead set, newest first, among jobs that died at or after ARGV[6]
  // ARGV[2] -> window: how many dead jobs this call looks at (bounded, so Redis never blocks long)
  // ARGV[3] -> job type ('' any), ARGV[4] -> tenant ('' any), ARGV[5] -> lowercase error text ('' any)
  // ARGV[6] -> died at or after (ms; '-inf' for any)
  // Output: {next offset or -1 at the end, then 7 values per match: id, died at, type, tenant,
  //          attempts, crashes, last error}   (read only)
  static let deadScanScript = RedisScript(
    "deadScan",
    """
    local offset, window = tonumber(ARGV[1]), tonumber(ARGV[2])
    local entries = redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[6], 'WITHSCORES', 'LIMIT', offset, window)
    local out = {-1}
    if #entries == window * 2 then out[1] = offset + window end
    for i = 1, #entries, 2 do
      local id = entries[i]
      -- A damaged record (not a hash) is listed with what is known rather than failing the scan.
      local okFields, f = pcall(redis.call, 'HMGET', KEYS[2] .. id, 't', 'n', 'a', 'c')
      if not okFields then f = {'(damaged record)', false, false, false} end
      local ok = (ARGV[3] == '' or f[1] == ARGV[3]) and (ARGV[4] == '' or f[2] == ARGV[4])
      local lastError = ''
      if ok then
        local okLast, last = pcall(redis.call, 'LINDEX', KEYS[3] .. id, -1)
        if not okLast then last = false end
        if last then
          local decoded, record = pcall(cjson.decode, last)
          if decoded and type(record) == 'table' and record['error'] then lastError = tostring(record['error']) end
        end
        if ARGV[5] ~= '' and not string.find(string.lower(lastError), ARGV[5], 1, true) then ok = false end
      end
      if ok then
        local n = #out
        out[n + 1] = id
        out[n + 2] = entries[i + 1]
        out[n + 3] = f[1] or ''
        out[n + 4] = f[2] or ''
        out[n + 5] = f[3] or '0'
        out[n + 6] = f[4] or '0'
        out[n + 7] = lastError
      end
    end
    return out
    """)

  /// Dead letters of `queue` matching `filter`, newest first, at most `limit`. Scans the dead set in
  /// windows of `window` jobs per script call, so 100,000 dead jobs never block Redis for long.
  /// `progress` hears how many dead jobs were looked at so far.
  public func deadLetters(
    queue: String, filter: JobFilter, limit: Int = .max, window: Int = 2_000,
    progress: (@Sendable (Int) -> Void)? = nil
  ) async throws -> [DeadLetter] {
    let k = QueueKeys(queue: queue)
    return try await scanInWindows(
      Self.deadScanScript, keys: [k.dead, k.jobPrefix, k.historyPrefix],
      arguments: [
        filter.type ?? "", filter.tenant ?? "", filter.errorContains?.lowercased() ?? "",
        filter.since.map(String.init) ?? "-inf",
      ], limit: limit, window: window, progress: progress
    ) { m in
      DeadLetter(
        id: m.text(0), queue: queue, type: m.text(2), tenant: m.optional(3), diedAt: m.time(1), attempts: m.number(4),
        crashes: m.number(5), lastError: m.optional(6))
    }
  }
}
