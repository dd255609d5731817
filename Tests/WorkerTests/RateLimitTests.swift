import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

/// Four worker processes share one bucket; the witness records when each run's token existed.
extension WorkerProcessTests {
  @Suite struct RateLimitTests {
    @Test func fourWorkersNeverExceedTheBucketAndUseItFully() async throws {
      let capacity = 5.0
      let rate = 20.0
      let jobs = 120
      let queue = TestRedis.queue()
      let bucket = "t-rl-\(UUID().uuidString.prefix(8))"
      let catalog = try TestCatalog(
        """
        {"queues": {"\(queue)": {"weight": 1}},
         "jobs": {"diag.echo": {"queue": "\(queue)", "max_attempts": 3,
                                "limits": [{"bucket": "\(bucket):{lane}", "capacity": \(capacity), "per_second": "{rate}"}]}}}
        """)

      let broker = try TestRedis.broker()
      let ids = try await broker.enqueue(
        (0..<jobs).map { _ in
          JobSpec(type: "diag.echo", payload: #"{"witness":true,"lane":"a","rate":\#(rate)}"#, queue: queue)
        }
      ).map(\.id)
      let redisURL = try TestRedis.url.description
      let workers = try (0..<4).map { _ in
        try catalog.worker(redis: redisURL, queues: queue, concurrency: 32)
      }
      defer { for worker in workers { worker.signal(SIGKILL) } }
      try await eventually("all limited jobs to run", within: .seconds(60)) {
        try await broker.stats(queues: [queue])[0].processed == jobs
      }

      let keys = QueueKeys(queue: queue)
      let redis = broker.redis
      #expect(try await redis.send("GET", keys.witnessEarly) == .null, "no run started before its token existed")
      let stamped = try await redis.send("ZRANGE", keys.witnessTokens, "0", "-1", "WITHSCORES").array ?? []
      let times = stride(from: 1, to: stamped.count, by: 2).compactMap { stamped[$0].int }.sorted()
      #expect(times.count == jobs)
      // In no window does the bucket give more than its capacity plus its refill over the window.
      var worst = 0.0
      for i in times.indices {
        for j in i..<times.count {
          let allowed = capacity + rate * Double(times[j] - times[i]) / 1000
          worst = max(worst, Double(j - i + 1) - allowed)
        }
      }
      #expect(worst <= 1e-6, "a window got \(worst) tokens more than allowed")
      // With work waiting the whole time, the achieved rate is at least 95% of the allowed one.
      let seconds = Double(times.last! - times.first!) / 1000
      let achieved = (Double(jobs) - capacity) / seconds
      #expect(achieved >= 0.95 * rate, "achieved \(achieved)/s of \(rate)/s")
      for id in ids {
        let info = try await broker.job(id: id)
        #expect(info.attempts == 0 && info.history.isEmpty, "deferral must not charge an attempt")
      }
      let witnessRuns = try await redis.send("HLEN", keys.witness).int
      #expect(witnessRuns == Int64(jobs))
    }
  }
}
