import Foundation
import RedisClient

/// One dead-lettered job as operators list it.
public struct DeadLetter: Sendable, Codable, Equatable {
  public var id: String
  public var queue: String
  public var type: String
  public var tenant: String?
  /// When it died (Redis ms).
  public var diedAt: Int64
  public var attempts: Int
  public var crashes: Int
  /// The last recorded error.
  public var lastError: String?
}

extension Broker {
  // KEYS[1] -> whago:{q}:dead
  // KEYS[2] -> whago:{q}:ready
  // KEYS[3] -> whago:{q}:stats
  // KEYS[4] -> whago:{q}:wake
  // KEYS[5] -> whago:{q}:job:   (prefix)
  // KEYS[6] -> whago:{q}:ring
  // KEYS[7] -> whago:{q}:ring:members
  // KEYS[8] -> whago:{q}:scheduled
  // ARGV[1] -> delay ms before the retried jobs run (0: now)
  // ARGV[2] -> spread ms: job k of this call runs k * spread later still
  // ARGV[3..] -> job ids
  // Output: how many were retried (ids no longer dead are skipped, so a retry can be re-run safely)
  // A retried job gets a fresh attempt budget and crash count; its history is kept.
  static let retryDeadScript = RedisScript(
    "retryDead",
    LuaClock.now + LuaReady.functions + """
      local n = 0
      local delay, spread = tonumber(ARGV[1]), tonumber(ARGV[2])
      for i = 3, #ARGV do
        local id = ARGV[i]
        local jk = KEYS[5] .. id
        if redis.call('ZREM', KEYS[1], id) == 1 then
          if redis.call('TYPE', jk)['ok'] == 'hash' and redis.call('HEXISTS', jk, 't') == 1 then
            redis.call('HSET', jk, 'a', 0, 'c', 0, 'l', '')
            redis.call('HDEL', jk, 'f', 'rt')
            local due = now + delay + n * spread
            if due > now then
              redis.call('HSET', jk, 's', 'scheduled', 'd', due)
              redis.call('ZADD', KEYS[8], due, id)
            else
              redis.call('HSET', jk, 's', 'ready')
              pushReady(KEYS[2], KEYS[6], KEYS[7], id, redis.call('HGET', jk, 'n'), false)
            end
            n = n + 1
          else
            -- An unreadable record cannot run again; keep it dead for the operator to delete.
            redis.call('ZADD', KEYS[1], now, id)
          end
        end
      end
      if n > 0 then
        redis.call('HINCRBY', KEYS[3], 'revived', n)
        ringDoorbell(KEYS[4])
      end
      return n
      """)

  // KEYS[1] -> whago:{q}:dead
  // KEYS[2] -> whago:{q}:stats
  // KEYS[3] -> whago:{q}:job:       (prefix)
  // KEYS[4] -> whago:{q}:history:   (prefix)
  // ARGV    -> job ids
  // Output: how many were deleted (ids no longer dead are skipped)
  static let deleteDeadScript = RedisScript(
    "deleteDead",
    """
    local n = 0
    for i = 1, #ARGV do
      if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
        redis.call('DEL', KEYS[3] .. ARGV[i], KEYS[4] .. ARGV[i])
        n = n + 1
      end
    end
    if n > 0 then redis.call('HINCRBY', KEYS[2], 'deleted', n) end
    return n
    """)

  /// Dead letters of `queue`, newest first, with their last error.
  public func deadLetters(queue: String, limit: Int = 100, offset: Int = 0) async throws -> [DeadLetter] {
    let k = QueueKeys(queue: queue)
    let reply = try await redis.send(
      "ZREVRANGE", k.dead, String(offset), String(offset + max(1, limit) - 1), "WITHSCORES")
    let items = reply.array ?? []
    var ids: [(String, Int64)] = []
    for i in stride(from: 0, to: items.count - 1, by: 2) {
      if let id = items[i].string { ids.append((id, items[i + 1].int ?? 0)) }
    }
    var commands: [RedisCommand] = []
    for (id, _) in ids {
      commands.append(RedisCommand("HMGET", k.job(id), "t", "n", "a", "c"))
      commands.append(RedisCommand("LINDEX", k.history(id), "-1"))
    }
    let replies = try await redis.pipeline(commands)
    return ids.enumerated().map { index, entry in
      let fields = replies[index * 2].array ?? []
      var lastError: String?
      if case .bulk(let bytes) = replies[index * 2 + 1] {
        lastError = (try? JSONDecoderBox.decoder.decode(AttemptRecord.self, from: Data(bytes)))?.error
      }
      return DeadLetter(
        id: entry.0, queue: queue, type: fields.string(0) ?? "", tenant: fields.string(1), diedAt: entry.1,
        attempts: Int(fields.int(2)), crashes: Int(fields.int(3)), lastError: lastError)
    }
  }

  /// Every dead job id of `queue`, oldest first.
  public func deadIDs(queue: String) async throws -> [String] {
    (try await redis.send("ZRANGE", QueueKeys(queue: queue).dead, "0", "-1").array ?? []).compactMap(\.string)
  }

  /// Puts dead jobs back to work with a fresh attempt budget, after `delay`, spread by `spread`
  /// each so that thousands of retries do not hit a failing dependency in the same second.
  /// Safe to interrupt and run again: ids that are no longer dead are skipped.
  @discardableResult
  public func retryDead(queue: String, ids: [String], delay: Duration = .zero, spread: Duration = .zero)
    async throws -> Int
  {
    if ids.isEmpty { return 0 }
    let k = QueueKeys(queue: queue)
    let reply = try await redis.evaluate(
      Self.retryDeadScript,
      keys: [k.dead, k.ready, k.stats, k.wake, k.jobPrefix, k.ring, k.ringMembers, k.scheduled],
      arguments: [String(delay.milliseconds), String(spread.milliseconds)] + ids)
    return Int(reply.int ?? 0)
  }

  /// Deletes dead jobs and their history for good.
  @discardableResult
  public func deleteDead(queue: String, ids: [String]) async throws -> Int {
    if ids.isEmpty { return 0 }
    let k = QueueKeys(queue: queue)
    let reply = try await redis.evaluate(
      Self.deleteDeadScript, keys: [k.dead, k.stats, k.jobPrefix, k.historyPrefix], arguments: ids)
    return Int(reply.int ?? 0)
  }
}
