import Foundation
import RedisClient

/// A dead job with everything needed to recreate it elsewhere: the line format of
/// `whago dead export` / `whago dead import` (one JSON object per line).
public struct DeadRecord: Sendable, Codable, Equatable {
  public var id: String
  public var queue: String
  public var type: String
  public var tenant: String?
  public var payload: String
  public var maxAttempts: Int
  public var attempts: Int
  public var crashes: Int
  public var enqueuedAt: Int64?
  public var diedAt: Int64
  public var history: [AttemptRecord]
}

extension Broker {
  /// Full records of dead jobs of one queue, read in pipelined rounds of 500.
  public func deadRecords(queue: String, ids: [String]) async throws -> [DeadRecord] {
    let k = QueueKeys(queue: queue)
    var records: [DeadRecord] = []
    for start in stride(from: 0, to: ids.count, by: 500) {
      let chunk = Array(ids[start..<min(start + 500, ids.count)])
      let replies = try await redis.pipeline(
        chunk.flatMap { id in
          [
            RedisCommand("HMGET", k.job(id), "t", "n", "p", "m", "a", "c", "e"),
            RedisCommand("LRANGE", k.history(id), "0", "-1"), RedisCommand("ZSCORE", k.dead, id),
          ]
        })
      for (i, id) in chunk.enumerated() {
        let f = replies[i * 3].array ?? []
        guard let type = f.string(0), let diedAt = replies[i * 3 + 2].string.flatMap({ Double($0) }) else { continue }
        let history = (replies[i * 3 + 1].array ?? []).compactMap { value -> AttemptRecord? in
          guard case .bulk(let bytes) = value else { return nil }
          return try? JSONDecoderBox.decoder.decode(AttemptRecord.self, from: Data(bytes))
        }
        records.append(
          DeadRecord(
            id: id, queue: queue, type: type, tenant: f.string(1).flatMap { $0.isEmpty ? nil : $0 },
            payload: f.string(2) ?? "{}", maxAttempts: Int(f.int(3)), attempts: Int(f.int(4)), crashes: Int(f.int(5)),
            enqueuedAt: f.string(6).flatMap { Int64($0) }, diedAt: Int64(diedAt), history: history))
      }
    }
    return records
  }

  // KEYS[1] -> whago:{q}:dead
  // KEYS[2] -> whago:{q}:job:       (prefix)
  // KEYS[3] -> whago:{q}:history:   (prefix)
  // KEYS[4] -> whago:{q}:stats
  // ARGV    -> per record: id, type, payload, max attempts, attempts, crashes, enqueued at ('' none),
  //            died at, tenant ('' none), n history entries, then the n entries (JSON)
  // Output: {imported, skipped} (a record whose id exists in the queue is skipped, so an import
  //         can be re-run after an interruption)
  static let importDeadScript = RedisScript(
    "importDead",
    """
    local imported, skipped, i = 0, 0, 1
    while i <= #ARGV do
      local id, count = ARGV[i], tonumber(ARGV[i + 9])
      local jk = KEYS[2] .. id
      if redis.call('EXISTS', jk) == 1 or redis.call('ZSCORE', KEYS[1], id) then
        skipped = skipped + 1
      else
        redis.call('HSET', jk, 't', ARGV[i + 1], 'p', ARGV[i + 2], 'm', ARGV[i + 3], 'a', ARGV[i + 4],
          'c', ARGV[i + 5], 's', 'dead', 'f', ARGV[i + 7])
        if ARGV[i + 6] ~= '' then redis.call('HSET', jk, 'e', ARGV[i + 6]) end
        if ARGV[i + 8] ~= '' then redis.call('HSET', jk, 'n', ARGV[i + 8]) end
        for h = 1, count do redis.call('RPUSH', KEYS[3] .. id, ARGV[i + 9 + h]) end
        redis.call('ZADD', KEYS[1], tonumber(ARGV[i + 7]), id)
        imported = imported + 1
      end
      i = i + 10 + count
    end
    if imported > 0 then redis.call('HINCRBY', KEYS[4], 'imported', imported) end
    return {imported, skipped}
    """)

  /// Recreates exported dead jobs in `queue` (their own queue when nil). Returns (imported, skipped).
  public func importDead(_ records: [DeadRecord], into queue: String? = nil) async throws -> (Int, Int) {
    var byQueue: [String: [DeadRecord]] = [:]
    for record in records { byQueue[queue ?? record.queue, default: []].append(record) }
    var imported = 0
    var skipped = 0
    let encoder = JSONEncoder()
    for (name, group) in byQueue.sorted(by: { $0.key < $1.key }) {
      try QueueError.checkQueueName(name)
      for record in group where !JobID.isValid(record.id) {
        throw QueueError.invalidJob("'\(record.id.prefix(40))' is not a job id")
      }
      _ = try await redis.send("SADD", QueueKeys.registry, name)
      let k = QueueKeys(queue: name)
      var args: [String] = []
      for record in group {
        args += [
          record.id, record.type, record.payload, String(record.maxAttempts), String(record.attempts),
          String(record.crashes), record.enqueuedAt.map(String.init) ?? "", String(record.diedAt), record.tenant ?? "",
          String(record.history.count),
        ]
        args += try record.history.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
      }
      let reply = try await redis.evaluate(
        Self.importDeadScript, keys: [k.dead, k.jobPrefix, k.historyPrefix, k.stats], arguments: args)
      let items = reply.array ?? []
      imported += Int(items.int(0))
      skipped += Int(items.int(1))
    }
    return (imported, skipped)
  }
}
