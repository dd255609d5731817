import RedisClient

/// What a scheduler did with one slot.
public enum CronFireOutcome: Sendable, Equatable {
  /// This scheduler enqueued the slot's job.
  case fired(jobID: String)
  /// The slot was missed and, by the schedule's policy, skipped.
  case skipped
  /// Another scheduler already handled this slot (or a later one).
  case alreadyHandled
  /// The slot is further ahead than the lead allows (a clock far off); nothing was done.
  case tooEarly
  /// The schedule is paused: the slot was recorded as handled with no job, and is not made up later.
  case paused
}

/// How to handle a slot.
public enum CronFireMode: String, Sendable {
  /// A regular slot: enqueue its job, due at the slot time.
  case fire
  /// The latest of the missed slots, run once to make up for all of them.
  case catchUp = "catchup"
  /// The latest of the missed slots, recorded as handled with no job.
  case skip
}

/// A schedule's progress as stored in Redis.
public struct CronState: Sendable, Equatable, Codable {
  public var name: String
  public var lastSlot: Int64?
  public var nextSlot: Int64?
  public var lastJob: String?
  public var fired: Int
  /// Times missed slots were dropped (policy skip).
  public var skipped: Int
  /// Times missed slots were made up by one run (policy run_once).
  public var madeUp: Int
  /// Who paused it, while it is paused (nil: running).
  public var pausedBy: String?
  /// Slots that passed while it was paused.
  public var pausedSlots: Int
}

extension Broker {
  // KEYS[1] -> whago:{q}:ready
  // KEYS[2] -> whago:{q}:scheduled
  // KEYS[3] -> whago:{q}:stats
  // KEYS[4] -> whago:{q}:wake
  // KEYS[5] -> whago:{q}:job:         (prefix)
  // KEYS[6] -> whago:{q}:cron:<name>  (HASH: last, next, job, fired, skipped, madeUp, paused, pausedSlots)
  // KEYS[7] -> whago:{q}:ring
  // KEYS[8] -> whago:{q}:ring:members
  // ARGV[1] -> slot time (epoch ms, in schedule time: see ScheduleClock)
  // ARGV[2] -> 'fire', 'catchup' (one run making up missed slots) or 'skip' (missed slots dropped)
  // ARGV[3] -> lead ms: how far ahead of Redis time a slot may be fired
  // ARGV[4..7] -> job id, type, payload, max attempts
  // ARGV[8] -> Redis time (ms) the slot's job is due: the slot itself unless the schedule clock runs faster
  // Output: {1, id} fired, {2} skipped, {3} paused, {0} already handled, {-1} too early
  // The compare-and-set on `last` is what makes each slot fire exactly once however many
  // schedulers run: no leader, nothing to configure. The job is due at the slot time and, when due,
  // goes to the consumer end of the ready list, so a backed-up queue does not delay it.
  static let cronFireScript = RedisScript(
    "cronFire",
    LuaClock.now + LuaJob.create + LuaReady.functions + """
      local slot = tonumber(ARGV[1])
      local due = tonumber(ARGV[8])
      local last = tonumber(redis.call('HGET', KEYS[6], 'last') or -1)
      if slot <= last then return {0} end
      if due > now + tonumber(ARGV[3]) then return {-1} end
      redis.call('HSET', KEYS[6], 'last', slot)
      if redis.call('HEXISTS', KEYS[6], 'paused') == 1 then
        redis.call('HINCRBY', KEYS[6], 'pausedSlots', 1)
        return {3}
      end
      if ARGV[2] == 'skip' then
        redis.call('HINCRBY', KEYS[6], 'skipped', 1)
        return {2}
      end
      local id = ARGV[4]
      local state = createJob(KEYS[5], id, ARGV[5], ARGV[6], ARGV[7], due, '', '')
      -- The slot stays readable on the job even when it was made up late.
      redis.call('HSET', KEYS[5] .. id, 'd', due, 'cs', slot)
      if state == 'scheduled' then
        redis.call('ZADD', KEYS[2], due, id)
      else
        pushReady(KEYS[1], KEYS[7], KEYS[8], id, '', true)
      end
      redis.call('HSET', KEYS[6], 'job', id)
      if ARGV[2] == 'catchup' then redis.call('HINCRBY', KEYS[6], 'madeUp', 1) end
      redis.call('HINCRBY', KEYS[6], 'fired', 1)
      redis.call('HINCRBY', KEYS[3], 'enqueued', 1)
      ringDoorbell(KEYS[4])
      return {1, id}
      """)

  /// Fires (or skips) one slot of schedule `name`, once across every scheduler.
  public func fireCron(
    name: String, slot: Int64, due: Int64? = nil, mode: CronFireMode, lead: Duration, job: JobSpec
  ) async throws -> CronFireOutcome {
    let keys = QueueKeys(queue: job.queue)
    try await register([job.queue])
    let id = JobID.make()
    let reply = try await redis.evaluate(
      Self.cronFireScript,
      keys: [
        keys.ready, keys.scheduled, keys.stats, keys.wake, keys.jobPrefix, keys.cron(name), keys.ring, keys.ringMembers,
      ],
      arguments: [
        String(slot), mode.rawValue, String(lead.milliseconds), id, job.type, job.payload,
        String(job.maxAttempts), String(due ?? slot),
      ])
    let items = reply.array ?? []
    switch items.int(0) {
    case 1: return .fired(jobID: items.string(1) ?? id)
    case 2: return .skipped
    case 3: return .paused
    case 0: return .alreadyHandled
    case -1: return .tooEarly
    default: throw QueueError.unexpectedReply(operation: "cronFire", detail: "\(reply)")
    }
  }

  /// Starts a schedule's record at `now` if it has none, so a new schedule runs from now on rather
  /// than treating all of history as missed. Returns the last slot handled.
  public func cronStart(name: String, queue: String, now: Int64) async throws -> Int64 {
    let key = QueueKeys(queue: queue).cron(name)
    let replies = try await redis.pipeline([
      RedisCommand("HSETNX", key, "last", String(now)), RedisCommand("HGET", key, "last"),
    ])
    return replies[1].int ?? now
  }

  /// Records the next slot for operators (not a job state change).
  public func cronNote(name: String, queue: String, next: Int64?) async throws {
    let key = QueueKeys(queue: queue).cron(name)
    if let next { try await redis.send("HSET", key, "next", String(next)) }
  }

  /// The stored progress of schedule `name`.
  public func cronState(name: String, queue: String) async throws -> CronState {
    let reply = try await redis.send(
      "HMGET", QueueKeys(queue: queue).cron(name), "last", "next", "job", "fired", "skipped", "madeUp", "paused",
      "pausedSlots")
    let f = reply.array ?? []
    return CronState(
      name: name, lastSlot: f.string(0).flatMap { Int64($0) }, nextSlot: f.string(1).flatMap { Int64($0) },
      lastJob: f.string(2), fired: Int(f.int(3)), skipped: Int(f.int(4)), madeUp: Int(f.int(5)),
      pausedBy: f.string(6), pausedSlots: Int(f.int(7)))
  }

  /// Pauses schedule `name` on every scheduler at once: its slots pass with no job until it is
  /// resumed, and are not made up afterwards. `by` says who, for the dashboard.
  public func pauseCron(name: String, queue: String, by who: String) async throws {
    try await redis.send("HSET", QueueKeys(queue: queue).cron(name), "paused", who.isEmpty ? "?" : who)
  }

  /// Resumes a paused schedule from its next slot.
  public func resumeCron(name: String, queue: String) async throws {
    try await redis.send("HDEL", QueueKeys(queue: queue).cron(name), "paused")
  }

  /// Redis's clock, in ms since 1970: the one clock every scheduler agrees on.
  public func redisTime() async throws -> Int64 {
    let reply = try await redis.send("TIME")
    let parts = reply.array ?? []
    guard let seconds = parts.first?.int, let micros = parts.string(1).flatMap({ Int64($0) }) else {
      throw QueueError.unexpectedReply(operation: "TIME", detail: "\(reply)")
    }
    return seconds * 1000 + micros / 1000
  }
}
