import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

extension WorkerProcessTests {
  /// Hourly and daily schedules on a clock that runs 3,600 times faster than Redis (an hour a
  /// second), read by three scheduler processes: every slot fires once, on the hour of its
  /// timezone, and a "night" with every scheduler stopped follows each schedule's missed policy.
  @Suite struct CompressedClockCronTests {
    @Test func threeSchedulersOnAFastClockFireEverySlotOnceAndHonorTheMissedPolicy() async throws {
      let queue = TestRedis.queue()
      let catalog = try TestCatalog(
        """
        {"queues": {"\(queue)": {"weight": 1}},
         "jobs": {"diag.noop": {"queue": "\(queue)", "max_attempts": 3}},
         "schedules": {
           "hourly-catchup": {"cron": "0 * * * *", "timezone": "America/Sao_Paulo", "job": "diag.noop", "missed": "run_once", "missed_after_ms": 10800000},
           "hourly-skip": {"cron": "30 * * * *", "timezone": "America/Sao_Paulo", "job": "diag.noop", "missed": "skip", "missed_after_ms": 10800000}}}
        """)
      let redisURL = try TestRedis.url.description
      let broker = try TestRedis.broker()
      // Schedule time starts at 2026-12-01 00:10 in São Paulo (03:10 UTC) now, and runs an hour per second.
      let anchor = try await broker.redisTime()
      let start: Int64 = 1_796_094_600_000
      let clock = ScheduleClock(anchor: anchor, start: start, speed: 3_600)
      let clockArgument = "anchor=\(anchor),start=\(start),speed=3600"
      func startSchedulers() throws -> [ChildProcess] {
        try (0..<3).map { _ in
          try catalog.worker(
            redis: redisURL, queues: queue, concurrency: 8, extra: ["--schedule-clock", clockArgument])
        }
      }

      var first = try startSchedulers()
      try await eventually("six hours of slots") {
        try await broker.cronState(name: "hourly-catchup", queue: queue).fired >= 6
      }
      for process in first { process.signal(SIGKILL) }
      for process in first { try await process.waitForExit() }
      first = []
      let beforeNight = try await broker.cronState(name: "hourly-catchup", queue: queue)
      // Down for about 8 schedule hours, more than the 3-hour tolerance.
      try await Task.sleep(for: .seconds(8))
      let second = try startSchedulers()
      defer { for process in second { process.signal(SIGKILL) } }
      try await eventually("slots after the night") {
        try await broker.cronState(name: "hourly-catchup", queue: queue).fired >= beforeNight.fired + 5
      }
      for process in second { process.signal(SIGTERM) }
      for process in second { try await process.waitForExit() }

      // Every job made, with the schedule slot it was made for (`cs`) and its Redis due time.
      let keys = QueueKeys(queue: queue)
      let redis = broker.redis
      var ids: [String] = []
      for set in [keys.finished, keys.scheduled, keys.dead, keys.leased] {
        ids += (try await redis.send("ZRANGE", set, "0", "-1").array ?? []).compactMap(\.string)
      }
      ids += (try await redis.send("LRANGE", keys.ready, "0", "-1").array ?? []).compactMap(\.string)
      var slots: [Int64] = []
      var onTime = 0
      for id in ids {
        let fields = try await redis.send("HMGET", keys.job(id), "cs", "d").array ?? []
        let slot = try #require(fields.first?.string.flatMap { Int64($0) }, "job \(id) has no cron slot")
        let due = try #require(fields.count > 1 ? fields[1].string.flatMap { Int64($0) } : nil)
        slots.append(slot)
        // Never before the fast clock reaches the slot; exactly then, but for the one made-up run.
        #expect(due >= clock.redisTime(schedule: slot))
        if due == clock.redisTime(schedule: slot) { onTime += 1 }
      }
      #expect(onTime == slots.count - 1, "\(slots.count - onTime) jobs were not due at their slot")
      let catchup = try await broker.cronState(name: "hourly-catchup", queue: queue)
      let skipper = try await broker.cronState(name: "hourly-skip", queue: queue)
      #expect(catchup.fired + skipper.fired == ids.count, "every fire made exactly one job")
      #expect(Set(slots).count == slots.count, "a slot fired twice: \(slots.sorted())")

      let hour: Int64 = 3_600_000
      let onTheHour = slots.filter { ($0 - start) % hour == 50 * 60_000 }.sorted()  // :00 in São Paulo, start is :10
      let onTheHalf = slots.filter { ($0 - start) % hour == 20 * 60_000 }.sorted()  // :30
      #expect(onTheHour.count + onTheHalf.count == slots.count, "slots off the hour: \(slots.sorted())")
      // Consecutive hours except one gap for the night, made up once (run_once) or not at all (skip).
      for (name, series) in [("catchup", onTheHour), ("skip", onTheHalf)] {
        let gaps = zip(series.dropFirst(), series).map { $0 - $1 }.filter { $0 != hour }
        #expect(gaps.count == 1, "\(name): gaps \(gaps.map { $0 / hour }) hours")
        #expect((gaps.first ?? 0) >= 3 * hour, "\(name): the night should span more than the 3 h tolerance")
      }
      #expect(catchup.madeUp == 1 && catchup.skipped == 0, "\(catchup)")
      #expect(skipper.skipped == 1 && skipper.madeUp == 0, "\(skipper)")
    }
  }
}
