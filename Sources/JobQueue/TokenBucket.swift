import RedisClient

/// One token bucket to take from: `capacity` tokens at most, refilled at `refillPerSecond`.
/// Capacity and rate travel with every take, so a plan change applies to the next token.
public struct TokenBucket: Sendable, Hashable {
  public var name: String
  public var capacity: Double
  public var refillPerSecond: Double
  public var cost: Double

  public init(name: String, capacity: Double, refillPerSecond: Double, cost: Double = 1) {
    self.name = name
    self.capacity = capacity
    self.refillPerSecond = refillPerSecond
    self.cost = cost
  }
}

/// The answer to a take.
public enum TokenGrant: Sendable, Equatable {
  /// The tokens are taken and exist at `at` (Redis ms): now, or a moment within the reservation
  /// horizon. Run the work at `at`, not before.
  case granted(at: Int64, now: Int64)
  /// Not all buckets can give a token within the horizon; nothing was taken. Try again in `retryIn` ms.
  case wait(retryIn: Int64, now: Int64)
}

extension Broker {
  // KEYS[1..n] -> whago:{limits}:bucket:<name> for each bucket of the take
  // ARGV[1]    -> reservation horizon ms: how far ahead a token may be promised
  // ARGV[2..]  -> 3 values per bucket: capacity, refill per second, cost
  // Output: {1, at, now} when every bucket gave its tokens (existing at `at`, now or later),
  //         {0, retry in ms, now} when one cannot within the horizon (and then none was taken).
  // A bucket may go below zero down to what refills within the horizon: a promised token is
  // one that will exist at `at`, so in no window does a bucket give more than its capacity plus
  // its refill, and jobs are not spun on; they wait for the moment their token exists.
  static let takeScript = RedisScript(
    "takeTokens",
    LuaClock.now + """
      local horizon = tonumber(ARGV[1])
      local at = now
      local levels = {}
      for i = 1, #KEYS do
        local capacity = tonumber(ARGV[3 * i - 1])
        local rate = tonumber(ARGV[3 * i]) / 1000
        local cost = tonumber(ARGV[3 * i + 1])
        local state = redis.call('HMGET', KEYS[i], 'tokens', 'ts')
        local tokens = tonumber(state[1])
        local ts = tonumber(state[2])
        if tokens == nil or ts == nil then tokens = capacity; ts = now end
        if ts > now then ts = now end
        tokens = math.min(capacity, tokens + (now - ts) * rate)
        local left = tokens - cost
        local ready = now
        if left < 0 then
          if rate <= 0 then return {0, horizon, now} end
          ready = now + math.ceil(-left / rate)
        end
        if ready > at then at = ready end
        levels[i] = left
      end
      if at - now > horizon then return {0, at - now - horizon, now} end
      for i = 1, #KEYS do
        local capacity = tonumber(ARGV[3 * i - 1])
        local rate = tonumber(ARGV[3 * i]) / 1000
        -- Capacity and rate are kept beside the level so operators can read them (`whago limits`).
        redis.call('HSET', KEYS[i], 'tokens', tostring(levels[i]), 'ts', now, 'cap', capacity, 'rate', ARGV[3 * i])
        -- Forget a bucket once it would be full again anyway.
        local ttl = 60000
        if rate > 0 then ttl = math.ceil((capacity - levels[i]) / rate) + 60000 end
        redis.call('PEXPIRE', KEYS[i], ttl)
      end
      return {1, at, now}
      """)

  /// Takes tokens from every bucket or from none. Tokens may be promised up to `horizon` ahead.
  public func take(_ buckets: [TokenBucket], horizon: Duration = .seconds(2)) async throws -> TokenGrant {
    if buckets.isEmpty { return .granted(at: 0, now: 0) }
    for bucket in buckets where bucket.capacity < bucket.cost || bucket.refillPerSecond < 0 || bucket.cost <= 0 {
      throw QueueError.invalidJob(
        "bucket \(bucket.name): capacity \(bucket.capacity) cannot hold cost \(bucket.cost) at refill \(bucket.refillPerSecond)/s"
      )
    }
    var args = [String(horizon.milliseconds)]
    for bucket in buckets {
      args += [String(bucket.capacity), String(bucket.refillPerSecond), String(bucket.cost)]
    }
    let reply = try await redis.evaluate(
      Self.takeScript, keys: buckets.map { QueueKeys.bucket($0.name) }, arguments: args)
    guard let items = reply.array, items.count == 3 else {
      throw QueueError.unexpectedReply(operation: "take", detail: "\(reply)")
    }
    return items.int(0) == 1
      ? .granted(at: items.int(1), now: items.int(2)) : .wait(retryIn: max(1, items.int(1)), now: items.int(2))
  }

  /// A bucket's level now, for operators: tokens (negative while tokens are promised ahead).
  public func bucketLevel(_ bucket: TokenBucket) async throws -> Double {
    let reply = try await redis.pipeline([
      RedisCommand("HMGET", QueueKeys.bucket(bucket.name), "tokens", "ts"), RedisCommand("TIME"),
    ])
    let state = reply[0].array ?? []
    let time = reply[1].array ?? []
    guard let tokens = state.first?.string.flatMap(Double.init), let ts = state.string(1).flatMap(Double.init),
      let seconds = time.first?.int, let micros = time.string(1).flatMap(Int64.init)
    else { return bucket.capacity }
    let now = Double(seconds * 1000 + micros / 1000)
    return min(bucket.capacity, tokens + max(0, now - ts) * bucket.refillPerSecond / 1000)
  }

  /// Buckets in use whose name has `part` as one of its `:`-separated pieces (a tenant, a chip),
  /// or every bucket in use when `part` is nil, with their level now; at most `limit`, found with
  /// SCAN so Redis never blocks.
  public func buckets(named part: String?, limit: Int = 1_000) async throws -> [BucketLevel] {
    let prefix = QueueKeys.bucket("")
    var cursor = "0"
    var names: [String] = []
    repeat {
      // Every bucket shares one hash tag, so on a cluster they are all on the node of that slot.
      let reply = try await redis.send(
        RedisCommand("SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000").routed(by: prefix))
      let items = reply.array ?? []
      cursor = items.first?.string ?? "0"
      for key in items.count > 1 ? (items[1].array ?? []).compactMap(\.string) : [] {
        let name = String(key.dropFirst(prefix.count))
        if part.map({ name.split(separator: ":").contains(Substring($0)) }) ?? true { names.append(name) }
      }
    } while cursor != "0" && names.count < limit
    names = Array(names.sorted().prefix(limit))
    if names.isEmpty { return [] }
    let replies = try await redis.pipeline(
      names.map { RedisCommand("HMGET", QueueKeys.bucket($0), "tokens", "ts", "cap", "rate") } + [RedisCommand("TIME")])
    let time = replies.last?.array ?? []
    let now = Double((time.first?.int ?? 0) * 1000 + (time.string(1).flatMap { Int64($0) } ?? 0) / 1000)
    return zip(names, replies).compactMap { name, reply in
      let f = reply.array ?? []
      guard let tokens = f.string(0).flatMap(Double.init), let ts = f.string(1).flatMap(Double.init) else { return nil }
      let capacity = f.string(2).flatMap(Double.init)
      let rate = f.string(3).flatMap(Double.init)
      var level = tokens
      if let capacity, let rate { level = min(capacity, tokens + max(0, now - ts) * rate / 1000) }
      return BucketLevel(name: name, level: level, capacity: capacity, refillPerSecond: rate)
    }
  }
}

/// A bucket as operators see it: tokens now (negative while tokens are promised ahead), its size
/// and refill as the last take gave them (nil for buckets written before they were recorded).
public struct BucketLevel: Sendable, Codable, Equatable {
  public var name: String
  public var level: Double
  public var capacity: Double?
  public var refillPerSecond: Double?
}
