import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

extension WorkerProcessTests {
  @Suite struct ManyProcessesTests {
    /// 4 producer processes and 3 worker processes over 50,000 jobs: every job is acknowledged
    /// exactly once and runs exactly once (each run counts itself in a witness hash), none is lost.
    @Test func fourProducersThreeWorkersFiftyThousandJobsExactlyOnce() async throws {
      let redisURL = try TestRedis.url.description
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue()
      let workers = try (0..<3).map { _ in
        try Whago.worker(redis: redisURL, queues: queue, concurrency: 64, lease: "10s")
      }
      defer { for worker in workers { worker.signal(SIGKILL) } }
      let producers = try (0..<4).map { _ in
        try ChildProcess(
          executable: try Whago.binary,
          arguments: ["enqueue", "diag.echo", "--payload", #"{"witness":true}"#, "--queue", queue, "--count", "12500"],
          environment: ["WHAGO_REDIS_URL": redisURL], label: "producer")
      }
      for producer in producers {
        #expect(try await producer.waitForExit(within: .seconds(120)) == 0, "\(producer.output)")
      }
      try await eventually("all 50,000 jobs to be processed", within: .seconds(240), every: .milliseconds(200)) {
        try await broker.stats(queues: [queue])[0].processed >= 50_000
      }
      let stats = try await broker.stats(queues: [queue])[0]
      #expect(stats.enqueued == 50_000)
      #expect(stats.processed == 50_000)
      #expect(stats.ready == 0 && stats.scheduled == 0 && stats.active == 0 && stats.dead == 0 && stats.failed == 0)
      // The witness: 50,000 distinct job ids, each run exactly once.
      let witness = QueueKeys(queue: queue).witness
      let redis = broker.redis
      #expect(try await redis.send("HLEN", witness).int == 50_000)
      let summary = try await redis.evaluate(
        RedisScript(
          "test.witness",
          """
          local v = redis.call('HVALS', KEYS[1])
          local sum, max = 0, 0
          for _, x in ipairs(v) do x = tonumber(x); sum = sum + x; if x > max then max = x end end
          return {sum, max}
          """), keys: [witness], arguments: [String]())
      #expect(summary.array?.map(\.int) == [50_000, 1])
      // Witnesses expire a day after their last run, so witness jobs cannot grow Redis for good.
      let ttl = try #require(try await redis.send("TTL", witness).int)
      #expect(ttl > 86_000 && ttl <= 86_400)
      for worker in workers { #expect(worker.isRunning) }
    }
  }
}
