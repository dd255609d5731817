import RedisClient

/// One minute of a queue's work, for rates and charts.
public struct ThroughputPoint: Sendable, Codable, Equatable {
  /// The minute's start, Redis ms since 1970.
  public var minute: Int64
  public var processed: Int
  public var failed: Int
}

/// The Lua that counts finished and failed runs per minute in `whago:{q}:minutes`, keeping about
/// the last hour. Scripts that include it must have `now` (LuaClock) in scope.
enum LuaThroughput {
  static let count = """
    local function countMinute(key, kind, n)
      local minute = math.floor(now / 60000)
      redis.call('HINCRBY', key, kind .. minute, n)
      -- Two fields a minute: past about 65 minutes, drop what is older than the hour.
      if redis.call('HLEN', key) > 130 then
        for _, field in ipairs(redis.call('HKEYS', key)) do
          local m = tonumber(string.sub(field, 3))
          if m == nil or m < minute - 61 then redis.call('HDEL', key, field) end
        end
      end
    end

    """
}

extension Broker {
  /// Processed and failed runs per minute over the last `minutes` minutes, oldest first, with the
  /// current (partial) minute last. Minutes without work are zeros, so charts need no gap logic.
  public func throughput(queue: String, minutes: Int = 60) async throws -> [ThroughputPoint] {
    let keys = QueueKeys(queue: queue)
    let replies = try await redis.pipeline([RedisCommand("HGETALL", keys.minutes), RedisCommand("TIME")])
    let time = replies[1].array ?? []
    guard let seconds = time.first?.int else {
      throw QueueError.unexpectedReply(operation: "TIME", detail: "\(replies[1])")
    }
    let current = seconds / 60
    var processed: [Int64: Int] = [:]
    var failed: [Int64: Int] = [:]
    let pairs = replies[0].array ?? []
    for i in stride(from: 0, to: pairs.count - 1, by: 2) {
      guard let field = pairs[i].string, field.count > 2, let minute = Int64(field.dropFirst(2)),
        let n = pairs[i + 1].string.flatMap({ Int($0) })
      else { continue }
      if field.hasPrefix("p:") { processed[minute] = n } else if field.hasPrefix("f:") { failed[minute] = n }
    }
    let count = max(1, minutes)
    return (0..<count).map { offset in
      let minute = current - Int64(count - 1 - offset)
      return ThroughputPoint(minute: minute * 60_000, processed: processed[minute] ?? 0, failed: failed[minute] ?? 0)
    }
  }
}
