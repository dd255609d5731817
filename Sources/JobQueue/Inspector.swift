import Foundation
import RedisClient

/// One queue's numbers, as operators and the dashboard see them.
public struct QueueStats: Sendable, Codable, Equatable {
  public var queue: String
  public var ready: Int
  public var scheduled: Int
  public var active: Int
  public var dead: Int
  public var paused: Bool
  public var enqueued: Int
  public var processed: Int
  public var failed: Int
  public var retried: Int
  public var recovered: Int
  public var cancelled: Int
  /// Times a job found no rate-limit token and waited for it (not a failure).
  public var deferred: Int = 0
  /// Runs finished and failed over the last 60 s (a sliding estimate from per-minute counts).
  public var processedLastMinute: Int = 0
  public var failedLastMinute: Int = 0
  /// How long the oldest ready job has waited for a worker; nil when none is ready.
  public var oldestReadyAgeMs: Int64?
}

/// One recorded attempt that did not succeed.
public struct AttemptRecord: Sendable, Codable, Equatable {
  public var attempt: Int
  public var error: String
  /// Redis time, ms since 1970.
  public var at: Int64
  /// `failed` (the handler threw or timed out) or `crashed` (its worker died).
  public var kind: String
}

/// Everything Redis knows about one job.
public struct JobInfo: Sendable, Codable, Equatable {
  public var id: String
  public var queue: String
  public var type: String
  public var payload: String
  public var state: JobState
  public var attempts: Int
  public var maxAttempts: Int
  public var crashes: Int
  public var idempotencyKey: String?
  /// Whose work this is; nil for system work.
  public var tenant: String?
  public var enqueuedAt: Int64?
  public var dueAt: Int64?
  public var startedAt: Int64?
  public var finishedAt: Int64?
  public var history: [AttemptRecord]
}

extension Broker {
  // KEYS[1] -> whago:{q}:ready (the tenant-less lane and the prefix of tenant lanes)
  // KEYS[2] -> whago:{q}:ring:members
  // KEYS[3] -> whago:{q}:scheduled, KEYS[4] -> whago:{q}:leased, KEYS[5] -> whago:{q}:dead
  // KEYS[6] -> whago:{q}:paused, KEYS[7] -> whago:{q}:stats, KEYS[8] -> whago:{q}:minutes
  // KEYS[9] -> whago:{q}:job:  (prefix)
  // Output: {ready, oldest ready since (ms, -1 none), scheduled, active, dead, paused 0/1, now,
  //          processed this minute, processed last minute, failed this minute, failed last minute,
  //          then the stats hash as field, value pairs}   (read only)
  static let queueStatsScript = RedisScript(
    "queueStats",
    LuaClock.now + LuaReady.functions + """
      local n, oldest = 0, -1
      local lanes = redis.call('SMEMBERS', KEYS[2])
      for _, tenant in ipairs(lanes) do
        local lane = laneKey(KEYS[1], tenant)
        local len = redis.call('LLEN', lane)
        if len > 0 then
          n = n + len
          -- Workers pop from the right: the right end is the lane's oldest job.
          -- pcall: a damaged record (not a hash) must not take the whole overview down.
          local ok, f = pcall(redis.call, 'HMGET', KEYS[9] .. redis.call('LINDEX', lane, -1), 'e', 'd')
          if not ok then f = {} end
          local since = math.max(tonumber(f[1]) or now, tonumber(f[2]) or 0)
          if oldest < 0 or since < oldest then oldest = since end
        end
      end
      local minute = math.floor(now / 60000)
      local counts = redis.call('HMGET', KEYS[8], 'p:' .. minute, 'p:' .. (minute - 1), 'f:' .. minute, 'f:' .. (minute - 1))
      local out = {n, oldest, redis.call('ZCARD', KEYS[3]), redis.call('ZCARD', KEYS[4]), redis.call('ZCARD', KEYS[5]),
        redis.call('EXISTS', KEYS[6]), now,
        tonumber(counts[1]) or 0, tonumber(counts[2]) or 0, tonumber(counts[3]) or 0, tonumber(counts[4]) or 0}
      for _, v in ipairs(redis.call('HGETALL', KEYS[7])) do out[#out + 1] = v end
      return out
      """)

  /// Counts for each queue (all known queues when `queues` is nil), one script per queue, pipelined.
  public func stats(queues: [String]? = nil) async throws -> [QueueStats] {
    let names: [String]
    if let queues { names = queues } else { names = try await queueNames() }
    let replies = try await redis.evaluateAll(
      Self.queueStatsScript,
      calls: names.map { name in
        let k = QueueKeys(queue: name)
        return (
          [k.ready, k.ringMembers, k.scheduled, k.leased, k.dead, k.paused, k.stats, k.minutes, k.jobPrefix],
          [String]()
        )
      })
    return try zip(names, replies).map { name, reply in
      guard let r = reply.array, r.count >= 11 else {
        throw QueueError.unexpectedReply(operation: "queueStats", detail: "\(reply)")
      }
      var counters: [String: Int] = [:]
      for i in stride(from: 11, to: r.count - 1, by: 2) {
        if let key = r[i].string { counters[key] = Int(r[i + 1].int ?? 0) }
      }
      let now = r.int(6)
      // A sliding minute from two per-minute buckets: all of this one, the unexpired part of the last.
      let past = 1 - Double(now % 60_000) / 60_000
      func lastMinute(_ current: Int64, _ previous: Int64) -> Int { Int(Double(current) + Double(previous) * past) }
      let oldest = r.int(1)
      return QueueStats(
        queue: name, ready: Int(r.int(0)), scheduled: Int(r.int(2)), active: Int(r.int(3)), dead: Int(r.int(4)),
        paused: r.int(5) == 1, enqueued: counters["enqueued"] ?? 0, processed: counters["processed"] ?? 0,
        failed: counters["failed"] ?? 0, retried: counters["retried"] ?? 0, recovered: counters["recovered"] ?? 0,
        cancelled: counters["cancelled"] ?? 0, deferred: counters["deferred"] ?? 0,
        processedLastMinute: lastMinute(r.int(7), r.int(8)),
        failedLastMinute: lastMinute(r.int(9), r.int(10)), oldestReadyAgeMs: oldest < 0 ? nil : max(0, now - oldest))
    }
  }

  /// Ready jobs in one tenant's lane of `queue`.
  public func readyCount(queue: String, tenant: String?) async throws -> Int {
    Int(try await redis.send("LLEN", QueueKeys(queue: queue).lane(tenant)).int ?? 0)
  }

  /// Which queue holds job `id`. Ids are random and global, so this asks every known queue at once.
  public func locate(id: String) async throws -> String? {
    guard JobID.isValid(id) else { throw QueueError.invalidJob("'\(id)' is not a job id") }
    let names = try await queueNames()
    let replies = try await redis.pipeline(
      names.map { name in
        let k = QueueKeys(queue: name)
        return RedisCommand("EXISTS", k.job(id), k.history(id))
      })
    return zip(names, replies).first { ($0.1.int ?? 0) > 0 }?.0
  }

  /// The job's record and every recorded failed or crashed attempt.
  public func job(id: String) async throws -> JobInfo {
    guard let queue = try await locate(id: id) else { throw QueueError.jobNotFound(id) }
    let k = QueueKeys(queue: queue)
    let replies = try await redis.pipeline([
      RedisCommand("HGETALL", k.job(id)), RedisCommand("LRANGE", k.history(id), "0", "-1"),
      RedisCommand("ZSCORE", k.dead, id), RedisCommand("HGET", k.leases, id), RedisCommand("ZSCORE", k.finished, id),
      RedisCommand("HGET", k.starts, id),
    ])
    var fields: [String: String] = [:]
    let pairs = replies[0].array ?? []
    for i in stride(from: 0, to: pairs.count - 1, by: 2) {
      if let key = pairs[i].string { fields[key] = pairs[i + 1].string }
    }
    let decoder = JSONDecoderBox.decoder
    let history = (replies[1].array ?? []).compactMap { value -> AttemptRecord? in
      guard case .bulk(let bytes) = value else { return nil }
      return try? decoder.decode(AttemptRecord.self, from: Data(bytes))
    }
    var state = fields["s"].flatMap(JobState.init(rawValue:)) ?? .unknown
    if fields.isEmpty, !replies[2].isNull { state = .dead }
    // A running or done job's record still says ready (LuaLease): its lease, `<token>@<started
    // at>`, says it runs; its place in the finished set says it is done, and the starts hash when
    // it started.
    var startedAt = fields["sa"].flatMap { Int64($0) }
    let finishedAt = fields["f"].flatMap { Int64($0) } ?? replies[4].string.flatMap { Double($0) }.map { Int64($0) }
    if state == .ready, let lease = replies[3].string, let at = lease.lastIndex(of: "@") {
      state = .active
      startedAt = Int64(lease[lease.index(after: at)...])
    } else if state == .ready, finishedAt != nil {
      state = .done
      // The starts hash holds the run that finished it; a record's 'sa' can be an earlier run's,
      // one an earlier version leased.
      startedAt = replies[5].string.flatMap { Int64($0) } ?? startedAt
    }
    return JobInfo(
      id: id, queue: queue, type: fields["t"] ?? "", payload: fields["p"] ?? "", state: state,
      attempts: Int(fields["a"] ?? "") ?? 0, maxAttempts: Int(fields["m"] ?? "") ?? 0,
      crashes: Int(fields["c"] ?? "") ?? 0, idempotencyKey: fields["k"], tenant: fields["n"],
      enqueuedAt: fields["e"].flatMap { Int64($0) },
      dueAt: fields["d"].flatMap { Int64($0) }, startedAt: startedAt,
      finishedAt: finishedAt, history: history)
  }
}

/// A shared decoder for the inspection reads.
enum JSONDecoderBox {
  static let decoder = JSONDecoder()
}
