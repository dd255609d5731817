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
}
