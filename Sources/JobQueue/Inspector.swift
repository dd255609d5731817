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
  // Output: ready jobs over every lane (read only)
  static let readyCountScript = RedisScript(
    "readyCount",
    LuaReady.functions + """
      local n = 0
      for _, tenant in ipairs(redis.call('SMEMBERS', KEYS[2])) do
        n = n + redis.call('LLEN', laneKey(KEYS[1], tenant))
      end
      return n
      """)

  /// Counts for each queue (all known queues when `queues` is nil), read in one round trip.
  public func stats(queues: [String]? = nil) async throws -> [QueueStats] {
    let names: [String]
    if let queues { names = queues } else { names = try await queueNames() }
    var commands: [RedisCommand] = []
    for name in names {
      let k = QueueKeys(queue: name)
      commands += [
        RedisCommand("SCARD", k.ringMembers), RedisCommand("ZCARD", k.scheduled), RedisCommand("ZCARD", k.leased),
        RedisCommand("ZCARD", k.dead), RedisCommand("EXISTS", k.paused), RedisCommand("HGETALL", k.stats),
      ]
    }
    let replies = try await redis.pipeline(commands)
    var readyCounts: [Int] = []
    for name in names {
      let k = QueueKeys(queue: name)
      let reply = try await redis.evaluate(
        Self.readyCountScript, keys: [k.ready, k.ringMembers], arguments: [String]())
      readyCounts.append(Int(reply.int ?? 0))
    }
    return names.enumerated().map { index, name in
      let r = Array(replies[index * 6..<index * 6 + 6])
      var counters: [String: Int] = [:]
      let pairs = r[5].array ?? []
      for i in stride(from: 0, to: pairs.count - 1, by: 2) {
        if let key = pairs[i].string { counters[key] = Int(pairs[i + 1].int ?? 0) }
      }
      return QueueStats(
        queue: name, ready: readyCounts[index], scheduled: Int(r.int(1)), active: Int(r.int(2)), dead: Int(r.int(3)),
        paused: r.int(4) == 1, enqueued: counters["enqueued"] ?? 0, processed: counters["processed"] ?? 0,
        failed: counters["failed"] ?? 0, retried: counters["retried"] ?? 0, recovered: counters["recovered"] ?? 0,
        cancelled: counters["cancelled"] ?? 0)
    }
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
      RedisCommand("ZSCORE", k.dead, id),
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
    return JobInfo(
      id: id, queue: queue, type: fields["t"] ?? "", payload: fields["p"] ?? "", state: state,
      attempts: Int(fields["a"] ?? "") ?? 0, maxAttempts: Int(fields["m"] ?? "") ?? 0,
      crashes: Int(fields["c"] ?? "") ?? 0, idempotencyKey: fields["k"], tenant: fields["n"],
      enqueuedAt: fields["e"].flatMap { Int64($0) },
      dueAt: fields["d"].flatMap { Int64($0) }, startedAt: fields["sa"].flatMap { Int64($0) },
      finishedAt: fields["f"].flatMap { Int64($0) }, history: history)
  }
}

/// A shared decoder for the inspection reads.
enum JSONDecoderBox {
  static let decoder = JSONDecoder()
}
