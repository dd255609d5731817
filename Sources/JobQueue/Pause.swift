import RedisClient

extension Broker {
  /// Stops workers from taking new jobs from `queue`; running jobs finish, enqueues still land.
  public func pause(queue: String) async throws {
    try QueueError.checkQueueName(queue)
    try await register([queue])
    try await redis.send("SET", QueueKeys(queue: queue).paused, "1")
  }

  /// Lets workers take jobs from `queue` again, and wakes them.
  public func resume(queue: String) async throws {
    try QueueError.checkQueueName(queue)
    let keys = QueueKeys(queue: queue)
    _ = try await redis.pipeline([
      RedisCommand("DEL", keys.paused), RedisCommand("LPUSH", keys.wake, "1"),
      RedisCommand("LTRIM", keys.wake, "0", "0"),
    ])
  }

  /// Sets a tenant's weight in `queue`'s round robin: a tenant of weight 3 gets three times the
  /// share of each fetch of a tenant of weight 1 while both have work. Weight 1 is the default.
  public func setTenantWeight(queue: String, tenant: String, weight: Int) async throws {
    try QueueError.checkQueueName(queue)
    guard weight >= 1 else { throw QueueError.invalidJob("a tenant weight must be at least 1") }
    try await redis.send("HSET", QueueKeys(queue: queue).weights, tenant, String(weight))
  }
}
