import Foundation
import RedisClient

/// A live worker process as operators see it: what it serves and what it runs right now.
public struct WorkerStatus: Sendable, Codable, Equatable {
  public var name: String
  public var host: String
  public var pid: Int
  public var queues: [String]
  public var concurrency: Int
  /// Jobs held right now (running, or finished and waiting for their ack).
  public var running: Int
  /// Up to 20 of those job ids.
  public var jobs: [String]
  /// Redis ms.
  public var startedAt: Int64
  /// Redis ms of the last heartbeat (the registry's score, not the worker's clock).
  public var lastSeenAt: Int64
  /// The layout of what the worker shares with others, leases first: `Broker.leaseLayout`. Nil in
  /// the record of a worker of a version before the leases hash (layout 1: the token in the job's
  /// record).
  public var leaseLayout: Int?

  public init(
    name: String, host: String, pid: Int, queues: [String], concurrency: Int, running: Int, jobs: [String],
    startedAt: Int64, lastSeenAt: Int64 = 0, leaseLayout: Int? = Broker.leaseLayout
  ) {
    self.name = name
    self.host = host
    self.pid = pid
    self.queues = queues
    self.concurrency = concurrency
    self.running = running
    self.jobs = jobs
    self.startedAt = startedAt
    self.lastSeenAt = lastSeenAt
    self.leaseLayout = leaseLayout
  }
}

extension Broker {
  // KEYS[1] -> whago:{workers}          (ZSET name -> last heartbeat)
  // KEYS[2] -> whago:{workers}:<name>   (the worker's record)
  // ARGV[1] -> worker name, ARGV[2] -> record JSON, ARGV[3] -> record lifetime ms ('0': the worker is leaving)
  // Output: Redis now (ms), which the worker keeps as its start time after its first beat
  static let heartbeatScript = RedisScript(
    "heartbeat",
    LuaClock.now + """
      local ttl = tonumber(ARGV[3])
      if ttl == 0 then
        redis.call('ZREM', KEYS[1], ARGV[1])
        redis.call('DEL', KEYS[2])
        return now
      end
      -- The record is stored as the worker wrote it; its last-seen time is the ZSET score.
      redis.call('SET', KEYS[2], ARGV[2], 'PX', ttl)
      redis.call('ZADD', KEYS[1], now, ARGV[1])
      -- Forget workers that stopped beating long ago (crashed without saying goodbye).
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 10 * ttl)
      return now
      """)

  /// Records that a worker is alive (or, with `leaving`, that it stopped). Its record expires after
  /// `lifetime` without a beat, so a killed worker drops out of `workers()` by itself.
  @discardableResult
  public func heartbeat(_ status: WorkerStatus, lifetime: Duration = .seconds(15), leaving: Bool = false)
    async throws -> Int64
  {
    let data = try JSONEncoder().encode(status)
    return try await redis.evaluate(
      Self.heartbeatScript, keys: [QueueKeys.workers, QueueKeys.worker(status.name)],
      arguments: [status.name, String(decoding: data, as: UTF8.self), leaving ? "0" : String(lifetime.milliseconds)]
    ).int ?? 0
  }

  /// Workers that beat recently, by name.
  public func workers() async throws -> [WorkerStatus] {
    let beats = try await redis.send("ZRANGE", QueueKeys.workers, "0", "-1", "WITHSCORES").array ?? []
    var names: [String] = []
    var seen: [Int64] = []
    for i in stride(from: 0, to: beats.count - 1, by: 2) {
      guard let name = beats[i].string else { continue }
      names.append(name)
      seen.append(beats[i + 1].string.flatMap { Double($0) }.map { Int64($0) } ?? 0)
    }
    if names.isEmpty { return [] }
    let records = try await redis.send(RedisCommand("MGET", names.map(QueueKeys.worker)))
    let decoder = JSONDecoder()
    return zip(records.array ?? [], seen).compactMap { value, lastSeen -> WorkerStatus? in
      guard case .bulk(let bytes) = value, var status = try? decoder.decode(WorkerStatus.self, from: Data(bytes))
      else { return nil }
      status.lastSeenAt = lastSeen
      if status.startedAt == 0 { status.startedAt = lastSeen }
      return status
    }.sorted { $0.name < $1.name }
  }
}
