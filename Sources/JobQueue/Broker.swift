import RedisClient
import Synchronization

/// The queue engine: the only code that changes job state in Redis. Every transition is one Lua
/// script (see the file named after each operation), so no crash between two commands can strand
/// a job.
public final class Broker: Sendable {
  public let redis: RedisClient
  /// Queues whose writes wait for replicas (see `Durability`).
  public let durability: [String: Durability]
  private let registered = Mutex<Set<String>>([])

  public init(redis: RedisClient, durability: [String: Durability] = [:]) {
    self.redis = redis
    self.durability = durability
  }

  /// Adds queue names to the registry that operator tools list. Not a job state change, so it is
  /// not part of any script; done once per name per process.
  func register(_ queues: some Sequence<String>) async throws {
    let fresh = registered.withLock { known -> [String] in
      let new = Set(queues).subtracting(known)
      known.formUnion(new)
      return Array(new)
    }
    if fresh.isEmpty { return }
    try await redis.send(RedisCommand("SADD", [QueueKeys.registry] + fresh))
  }

  /// Every queue name known to Redis, sorted.
  public func queueNames() async throws -> [String] {
    let reply = try await redis.send("SMEMBERS", QueueKeys.registry)
    return (reply.array ?? []).compactMap(\.string).sorted()
  }
}

extension Array where Element == RedisValue {
  func int(_ i: Int) -> Int64 { i < count ? (self[i].int ?? 0) : 0 }
  func string(_ i: Int) -> String? { i < count ? self[i].string : nil }
}
