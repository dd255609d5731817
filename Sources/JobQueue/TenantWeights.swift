import RedisClient

extension Broker {
  /// Sets a tenant's weight in `queue`'s round robin: a tenant of weight 3 gets three times the
  /// share of each fetch of a tenant of weight 1 while both have work. Weight 1 is the default.
  public func setTenantWeight(queue: String, tenant: String, weight: Int) async throws {
    try QueueError.checkQueueName(queue)
    guard weight >= 1 else { throw QueueError.invalidJob("a tenant weight must be at least 1") }
    try await redis.send("HSET", QueueKeys(queue: queue).weights, tenant, String(weight))
  }
}
