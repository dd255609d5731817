import Foundation
import RedisClient

/// What to enqueue. `payload` is JSON text; the catalog checks it before it gets here.
public struct JobSpec: Sendable {
  public enum When: Sendable {
    case now
    case after(Duration)
    /// An absolute time chosen by the caller (milliseconds since 1970).
    case at(epochMilliseconds: Int64)
  }

  public var type: String
  public var payload: String
  public var queue: String
  public var when: When
  public var maxAttempts: Int
  public var idempotencyKey: String?
  public var idempotencyWindow: Duration
  /// The key holds for as long as its job lives (scheduled, ready or running), however long that
  /// is, and no longer: for a job that must have one copy at a time, such as a campaign chip's
  /// sender that snoozes for days, where a window would run out under the live job.
  /// `idempotencyWindow` is then unused.
  public var keyHeldWhileAlive = false
  /// Whose work this is: ready jobs of different tenants take turns (fairness). Nil for system work.
  public var tenant: String?
  /// At most this many of the tenant's jobs may wait in this queue for a time still to come
  /// (counted among jobs enqueued with a cap): a job past it is refused with
  /// `QueueError.scheduledCapReached`, and nothing of its call is written. Nil: no cap.
  public var scheduledCap: Int?

  public init(
    type: String, payload: String = "{}", queue: String, when: When = .now, maxAttempts: Int = 25,
    idempotencyKey: String? = nil, idempotencyWindow: Duration = .seconds(86_400), keyHeldWhileAlive: Bool = false,
    tenant: String? = nil, scheduledCap: Int? = nil
  ) {
    self.keyHeldWhileAlive = keyHeldWhileAlive
    self.tenant = tenant
    self.scheduledCap = scheduledCap
    self.type = type
    self.payload = payload
    self.queue = queue
    self.when = when
    self.maxAttempts = maxAttempts
    self.idempotencyKey = idempotencyKey
    self.idempotencyWindow = idempotencyWindow
  }
}

/// What an enqueue did: the job's id and state, and whether an idempotency key matched an earlier job.
public struct EnqueueResult: Sendable, Equatable {
  public var id: String
  public var state: JobState
  public var duplicate: Bool

  public init(id: String, state: JobState, duplicate: Bool) {
    self.id = id
    self.state = state
    self.duplicate = duplicate
  }
}

extension Broker {
  // KEYS[1] -> whago:{q}:ready
  // KEYS[2] -> whago:{q}:scheduled
  // KEYS[3] -> whago:{q}:stats
  // KEYS[4] -> whago:{q}:wake
  // KEYS[5] -> whago:{q}:job:            (prefix; the script appends each id)
  // KEYS[6] -> whago:{q}:unique:         (prefix; the script appends each idempotency key)
  // KEYS[7] -> whago:{q}:ring
  // KEYS[8] -> whago:{q}:ring:members
  // KEYS[9] -> whago:{q}:scheduled:tenant:  (prefix; the script appends the tenant)
  // KEYS[10] -> whago:{q}:leases    (a duplicate's answer says whether its job runs or is done)
  // KEYS[11] -> whago:{q}:finished
  // ARGV    -> 10 values per job: id, type, payload, max attempts,
  //            delay ms (-1: none), run-at epoch ms (-1: none), idempotency key ('' for none), tenant,
  //            idempotency window ms (0: the key holds while its job lives),
  //            the tenant's cap on jobs scheduled ahead (0: none)
  // Output: {one letter per job: r ready, s scheduled, d an earlier job with the same key answered;
  //          then per d, in order: that job's id and state}
  //         or the error 'SCHEDULED_CAP <tenant> <held> <cap>', and nothing written.
  // The new jobs' ids are the caller's own, so a bulk's reply is one short string, not 3 values a job.
  // A capped job due later is also kept in its tenant's ZSET scored by its due time, and the jobs
  // counted are those whose due time is still ahead: a job that came due (promoted, run, whatever
  // became of it) stops counting by itself, so no other script has to keep the count.
  static let enqueueScript = RedisScript(
    "enqueue",
    LuaClock.now + LuaJob.create + LuaReady.functions + LuaLease.functions + """
      local capped = nil
      -- Numbers are read only where a job uses them: strtod per argument showed in profiles.
      for i = 1, #ARGV, 10 do
        local cap = ARGV[i + 9] ~= '0' and tonumber(ARGV[i + 9]) or 0
        if cap > 0 and ARGV[i + 7] ~= '' then
          local delay, at = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
          if delay > 0 or (delay < 0 and at > now) then
            capped = capped or {}
            local entry = capped[ARGV[i + 7]]
            if not entry then entry = {cap = cap, wanted = 0}; capped[ARGV[i + 7]] = entry end
            entry.wanted = entry.wanted + 1
          end
        end
      end
      if capped then
        for tenant, entry in pairs(capped) do
          local key = KEYS[9] .. tenant
          redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
          local held = redis.call('ZCARD', key)
          if held + entry.wanted > entry.cap then
            return redis.error_reply('SCHEDULED_CAP ' .. tenant .. ' ' .. held .. ' ' .. entry.cap)
          end
        end
      end
      local letters, out = {}, {''}
      local ready = {}
      local added = 0
      for i = 1, #ARGV, 10 do
        local tenant = ARGV[i + 7]
        local id, key = ARGV[i], ARGV[i + 6]
        local existing, window, whileAlive = false, 0, false
        if key ~= '' then
          window = tonumber(ARGV[i + 8])
          whileAlive = window == 0
          existing = redis.call('GET', KEYS[6] .. key)
        end
        if existing and whileAlive then
          -- Held only while the job lives: a finished (or purged) job's key is free again.
          local s = jobState(KEYS[10], KEYS[11], KEYS[5] .. existing, existing)
          if s ~= 'scheduled' and s ~= 'ready' and s ~= 'active' then existing = false end
        end
        if existing then
          local state = jobState(KEYS[10], KEYS[11], KEYS[5] .. existing, existing) or 'unknown'
          letters[#letters + 1] = 'd'
          out[#out + 1] = existing; out[#out + 1] = state
        else
          local due = now
          if ARGV[i + 4] ~= '-1' or ARGV[i + 5] ~= '-1' then
            local delay, at = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
            if delay >= 0 then due = now + delay elseif at >= 0 then due = at end
          end
          local state = createJob(KEYS[5], id, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], due, key, tenant)
          if key ~= '' then
            if whileAlive then
              redis.call('SET', KEYS[6] .. key, id)
            else
              redis.call('SET', KEYS[6] .. key, id, 'PX', window)
            end
          end
          if state == 'scheduled' then
            redis.call('ZADD', KEYS[2], due, id)
            if ARGV[i + 9] ~= '0' and tenant ~= '' then
              local key = KEYS[9] .. tenant
              redis.call('ZADD', key, due, id)
              if redis.call('PTTL', key) < due - now then redis.call('PEXPIRE', key, due - now + 1000) end
            end
          else
            local lane = ready[tenant]
            if not lane then lane = {}; ready[tenant] = lane end
            lane[#lane + 1] = id
            if #lane >= 1000 then pushReadyMany(KEYS[1], KEYS[7], KEYS[8], lane, tenant); ready[tenant] = {} end
          end
          added = added + 1
          if state == 'scheduled' then letters[#letters + 1] = 's' else letters[#letters + 1] = 'r' end
        end
      end
      for tenant, lane in pairs(ready) do
        if #lane > 0 then pushReadyMany(KEYS[1], KEYS[7], KEYS[8], lane, tenant) end
      end
      if added > 0 then
        redis.call('HINCRBY', KEYS[3], 'enqueued', added)
        ringDoorbell(KEYS[4])
      end
      out[1] = table.concat(letters)
      return out
      """)

  /// Jobs per script call: large enough to amortize a round trip, small enough not to stall Redis.
  static let enqueueChunk = 500

  /// Enqueues one job.
  public func enqueue(_ job: JobSpec) async throws -> EnqueueResult {
    try await enqueue([job])[0]
  }

  /// Enqueues many jobs, in chunks of a few hundred per script, every chunk of a queue in one
  /// round trip and in order (so a bulk keeps its FIFO order). Results come back in the order of `jobs`.
  ///
  /// `atomically`: each queue's jobs go in one script, all or none (a request's batch, at most a
  /// few thousand). Jobs of different queues cannot share a script (on a cluster they live on
  /// different nodes): when one queue's jobs went in and another's failed, `EnqueueIncomplete`
  /// says exactly which went in.
  public func enqueue(_ jobs: [JobSpec], atomically: Bool = false) async throws -> [EnqueueResult] {
    for job in jobs {
      try QueueError.checkQueueName(job.queue)
      if job.type.isEmpty { throw QueueError.invalidJob("empty job type") }
      if job.maxAttempts < 1 { throw QueueError.invalidJob("max attempts must be at least 1") }
    }
    try await register(Set(jobs.map(\.queue)))
    // Group by queue, keeping positions.
    var groups: [String: [Int]] = [:]
    var groupOrder: [String] = []
    for (index, job) in jobs.enumerated() {
      if groups[job.queue] == nil { groupOrder.append(job.queue) }
      groups[job.queue, default: []].append(index)
    }
    var results = [EnqueueResult?](repeating: nil, count: jobs.count)
    var failure: (any Error)?
    await withTaskGroup(of: ([Int], Result<[EnqueueResult], any Error>).self) { group in
      for queue in groupOrder {
        let indices = groups[queue]!
        group.addTask {
          do {
            let chunk = atomically ? max(1, indices.count) : Self.enqueueChunk
            let results = try await self.enqueueGroup(indices.map { jobs[$0] }, queue: queue, chunk: chunk)
            try await self.replicate(queue: queue)
            return (indices, .success(results))
          } catch {
            return (indices, .failure(error))
          }
        }
      }
      for await (indices, outcome) in group {
        switch outcome {
        case .success(let groupResults): for (index, result) in zip(indices, groupResults) { results[index] = result }
        case .failure(let error): failure = failure ?? error
        }
      }
    }
    if let failure {
      let committed = results.enumerated().compactMap { index, result in result.map { (index, $0) } }
      if committed.isEmpty || !atomically { throw failure }
      throw EnqueueIncomplete(committed: committed, cause: failure)
    }
    return results.map { $0! }
  }

  private func enqueueGroup(_ jobs: [JobSpec], queue: String, chunk: Int) async throws -> [EnqueueResult] {
    let keys = QueueKeys(queue: queue)
    let scriptKeys = [
      keys.ready, keys.scheduled, keys.stats, keys.wake, keys.jobPrefix, keys.uniquePrefix, keys.ring, keys.ringMembers,
      keys.tenantScheduledPrefix, keys.leases, keys.finished,
    ]
    var calls: [(keys: [String], arguments: [String])] = []
    for start in stride(from: 0, to: jobs.count, by: chunk) {
      var args: [String] = []
      args.reserveCapacity(min(chunk, jobs.count) * 10)
      for job in jobs[start..<min(start + chunk, jobs.count)] {
        var delay: Int64 = -1
        var at: Int64 = -1
        switch job.when {
        case .now: break
        case .after(let duration): delay = max(0, duration.milliseconds)
        case .at(let epochMilliseconds): at = epochMilliseconds
        }
        args += [
          JobID.make(), job.type, job.payload, String(job.maxAttempts), String(delay), String(at),
          job.idempotencyKey ?? "", job.tenant ?? "",
          job.keyHeldWhileAlive ? "0" : String(max(1, job.idempotencyWindow.milliseconds)),
          String(max(0, job.scheduledCap ?? 0)),
        ]
      }
      calls.append((scriptKeys, args))
    }
    var results: [EnqueueResult] = []
    results.reserveCapacity(jobs.count)
    let replies: [RedisValue]
    do {
      replies = try await redis.evaluateAll(Self.enqueueScript, calls: calls)
    } catch let error as RedisError where error.kind == .server && error.message.contains("SCHEDULED_CAP ") {
      let parts = error.message.split(separator: " ")
      throw QueueError.scheduledCapReached(
        queue: queue, held: parts.count > 3 ? Int(parts[parts.count - 2]) ?? 0 : 0,
        cap: parts.last.flatMap { Int($0) } ?? 0)
    }
    for (call, reply) in zip(calls, replies) {
      guard let items = reply.array, let letters = items.first?.string, items.count % 2 == 1,
        letters.utf8.count * 10 == call.arguments.count
      else {
        throw QueueError.unexpectedReply(operation: "enqueue", detail: "\(reply)")
      }
      var duplicate = 1
      for (index, letter) in letters.utf8.enumerated() {
        let id = call.arguments[index * 10]
        switch letter {
        case UInt8(ascii: "r"): results.append(EnqueueResult(id: id, state: .ready, duplicate: false))
        case UInt8(ascii: "s"): results.append(EnqueueResult(id: id, state: .scheduled, duplicate: false))
        case UInt8(ascii: "d") where duplicate + 1 < items.count:
          results.append(
            EnqueueResult(
              id: items.string(duplicate) ?? "",
              state: JobState(rawValue: items.string(duplicate + 1) ?? "") ?? .unknown, duplicate: true))
          duplicate += 2
        default: throw QueueError.unexpectedReply(operation: "enqueue", detail: "\(reply)")
        }
      }
    }
    guard results.count == jobs.count else {
      throw QueueError.unexpectedReply(operation: "enqueue", detail: "\(results.count) results for \(jobs.count) jobs")
    }
    return results
  }
}

extension Duration {
  /// Whole milliseconds, rounded down.
  public var milliseconds: Int64 {
    let (seconds, attoseconds) = components
    return seconds * 1000 + attoseconds / 1_000_000_000_000_000
  }
}

/// An atomic enqueue of jobs for several queues where some queues' jobs went in and another's did
/// not (Redis failed between the scripts): `committed` names exactly which, by position, so the
/// caller resends only the rest.
public struct EnqueueIncomplete: Error, CustomStringConvertible {
  public var committed: [(index: Int, result: EnqueueResult)]
  public var cause: any Error

  public var description: String {
    "\(committed.count) jobs were enqueued before the rest failed (\(cause))"
  }
}
