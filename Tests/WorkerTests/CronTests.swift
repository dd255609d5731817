import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

/// Three worker processes run the scheduler at once; every slot must fire exactly once, and slots
/// missed while all of them were down follow the schedule's policy.
extension WorkerProcessTests {
  @Suite struct CronTests {
    @Test func threeSchedulersFireEverySlotOnceAndHonorTheMissedPolicy() async throws {
      let queue = TestRedis.queue()
      let catalog = try TestCatalog(
        """
        {"queues": {"\(queue)": {"weight": 1}},
         "jobs": {"diag.noop": {"queue": "\(queue)", "max_attempts": 3}},
         "schedules": {
           "catchup": {"cron": "* * * * * *", "timezone": "UTC", "job": "diag.noop", "missed": "run_once", "missed_after_ms": 3000},
           "dropper": {"cron": "* * * * * *", "timezone": "UTC", "job": "diag.noop", "missed": "skip", "missed_after_ms": 3000}}}
        """)
      let redisURL = try TestRedis.url.description
      func startSchedulers() throws -> [ChildProcess] {
        try (0..<3).map { _ in
          try catalog.worker(redis: redisURL, queues: queue, concurrency: 8)
        }
      }
      let broker = try TestRedis.broker()

      var first = try startSchedulers()
      try await Task.sleep(for: .seconds(5))
      for process in first { process.signal(SIGKILL) }
      for process in first { try await process.waitForExit() }
      first = []
      // Everything is down across several slots, longer than the 3 s tolerance.
      try await Task.sleep(for: .seconds(8))
      let second = try startSchedulers()
      defer { for process in second { process.signal(SIGKILL) } }
      try await Task.sleep(for: .seconds(5))
      for process in second { process.signal(SIGTERM) }
      for process in second { try await process.waitForExit() }

      // Every job the schedules made, by schedule: cron jobs carry their slot in `d`.
      let keys = QueueKeys(queue: queue)
      let redis = broker.redis
      var ids: [String] = []
      for set in [keys.finished, keys.scheduled, keys.dead, keys.leased] {
        ids += (try await redis.send("ZRANGE", set, "0", "-1").array ?? []).compactMap(\.string)
      }
      ids += (try await redis.send("LRANGE", keys.ready, "0", "-1").array ?? []).compactMap(\.string)
      var jobs: [(slot: Int64, enqueued: Int64)] = []
      for id in ids {
        let info = try await broker.job(id: id)
        jobs.append((try #require(info.dueAt), try #require(info.enqueuedAt)))
      }
      let catchup = try await broker.cronState(name: "catchup", queue: queue)
      let dropper = try await broker.cronState(name: "dropper", queue: queue)
      #expect(catchup.fired + dropper.fired == jobs.count, "every fire made exactly one job")

      // Both schedules share the same slots, so each slot appears exactly twice (once per schedule).
      let counts = Dictionary(grouping: jobs, by: \.slot).mapValues(\.count)
      #expect(
        counts.values.allSatisfy { $0 <= 2 }, "a slot fired twice for one schedule: \(counts.filter { $0.value > 2 })")
      let slots = counts.keys.sorted()
      #expect(slots.count >= 8)
      // Consecutive seconds, except one gap while everything was down.
      let gaps = zip(slots.dropFirst(), slots).map { $0 - $1 }.filter { $0 != 1000 }
      #expect(gaps.count == 1, "gaps: \(gaps)")
      #expect((gaps.first ?? 0) >= 3000)
      // run_once made up the gap with exactly one job; skip made up nothing and recorded the skip.
      #expect(catchup.madeUp == 1 && catchup.skipped == 0, "\(catchup)")
      #expect(dropper.skipped == 1 && dropper.madeUp == 0, "\(dropper)")
      // The operator sees both schedules with their last slot and count.
      let listed = try ChildProcess(
        executable: try Whago.binary, arguments: ["schedules", "--json"],
        environment: ["WHAGO_REDIS_URL": redisURL, "WHAGO_JOBS_DIR": catalog.directory], label: "cli")
      #expect(try await listed.waitForExit() == 0)
      let shown = try JSONDecoder().decode([CronState].self, from: Data(listed.output.utf8))
      #expect(shown.map(\.name) == ["catchup", "dropper"])
      #expect(shown.first?.lastSlot == catchup.lastSlot && shown.first?.fired == catchup.fired)
      // The next slot is readable for operators.
      #expect(try #require(catchup.nextSlot) > (catchup.lastSlot ?? 0))
    }
  }
}
