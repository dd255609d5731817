import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing
import Wire

/// Schedules read in Redis time itself, the clock production uses (CompressedClockCronTests covers
/// hourly slots in a timezone and a night with every scheduler down, on a faster clock). Three worker
/// processes run the scheduler at once on per-second slots: every slot fires exactly once, and an
/// outage longer than the tolerance follows each schedule's missed policy. The outage is written
/// into Redis rather than slept through, and the tolerance is ten minutes, so however slowly the
/// machine runs the schedulers, no slot of the run counts as missed and no expectation moves.
extension WorkerProcessTests {
  @Suite struct CronTests {
    @Test func threeSchedulersFireEverySlotOnceAndHonorTheMissedPolicy() async throws {
      let queue = TestRedis.queue()
      let catalog = try TestCatalog(
        """
        {"queues": {"\(queue)": {"weight": 1}},
         "jobs": {"diag.noop": {"queue": "\(queue)", "max_attempts": 3}},
         "schedules": {
           "catchup": {"cron": "* * * * * *", "timezone": "UTC", "job": "diag.noop", "payload": {"from": "catchup"}, "missed": "run_once", "missed_after_ms": 600000},
           "dropper": {"cron": "* * * * * *", "timezone": "UTC", "job": "diag.noop", "payload": {"from": "dropper"}, "missed": "skip", "missed_after_ms": 600000}}}
        """)
      let redisURL = try TestRedis.url.description
      let broker = try TestRedis.broker()
      let names = ["catchup", "dropper"]
      func states() async throws -> [CronState] {
        var states: [CronState] = []
        for name in names { states.append(try await broker.cronState(name: name, queue: queue)) }
        return states
      }

      // Both schedules last handled a slot 20 minutes ago, twice the tolerance: every scheduler
      // has been down since.
      let restart = try await broker.redisTime()
      let outage: Int64 = 20 * 60_000
      for name in names {
        #expect(try await broker.cronStart(name: name, queue: queue, now: restart - outage) == restart - outage)
      }
      // One scheduler comes back first and finds the outage; then two more join it.
      var schedulers = [try catalog.worker(redis: redisURL, queues: queue, concurrency: 8)]
      defer { for process in schedulers where process.isRunning { process.signal(SIGKILL) } }
      try await eventually("the outage to be handled", within: .seconds(120)) {
        try await states().allSatisfy { $0.madeUp + $0.skipped > 0 }
      }
      for _ in 0..<2 { schedulers.append(try catalog.worker(redis: redisURL, queues: queue, concurrency: 8)) }
      try await eventually("the two other schedulers to start", within: .seconds(120)) {
        let running = Set(try await broker.workers().map(\.pid))
        return schedulers.allSatisfy { running.contains(Int($0.pid)) }
      }
      let joined = try await states()
      try await eventually("five more slots of each schedule with all three running", within: .seconds(120)) {
        try await zip(states(), joined).allSatisfy { $0.fired >= $1.fired + 5 }
      }
      for process in schedulers { process.signal(SIGTERM) }
      for process in schedulers { try await process.waitForExit() }

      // Every job the schedules made, by schedule (its payload), with its cron slot (`cs`).
      let keys = QueueKeys(queue: queue)
      let redis = broker.redis
      var ids: [String] = []
      for set in [keys.finished, keys.scheduled, keys.dead, keys.leased] {
        ids += (try await redis.send("ZRANGE", set, "0", "-1").array ?? []).compactMap(\.string)
      }
      ids += (try await redis.send("LRANGE", keys.ready, "0", "-1").array ?? []).compactMap(\.string)
      var slots: [String: [(slot: Int64, id: String)]] = [:]
      for id in ids {
        let info = try await broker.job(id: id)
        let from = try #require(try JSONDecoder().decode([String: String].self, from: Data(info.payload.utf8))["from"])
        let fields = try await redis.send("HMGET", keys.job(id), "cs").array ?? []
        let slot = try #require(fields.first?.string.flatMap { Int64($0) }, "job \(id) has no cron slot")
        let due = try #require(info.dueAt)
        let enqueued = try #require(info.enqueuedAt)
        // Whole seconds, due at the slot itself (Redis time is schedule time, so a made-up run is
        // due at its slot too), and never made more than the 1 s lead ahead of it.
        #expect(slot % 1000 == 0 && due == slot && enqueued >= slot - 1000, "job \(id): slot \(slot), due \(due)")
        slots[from, default: []].append((slot, id))
      }
      let final = try await states()
      let (catchup, dropper) = (final[0], final[1])
      #expect(catchup.fired + dropper.fired == ids.count, "every fire made exactly one job")
      for state in final {
        let made = (slots[state.name] ?? []).sorted { $0.slot < $1.slot }
        #expect(made.count == state.fired, "\(state.name): \(made.count) jobs, \(state.fired) fired")
        guard let first = made.first, let last = made.last else {
          Issue.record("\(state.name) made no job")
          continue
        }
        // Consecutive seconds from the restart on: no slot twice, none lost while three
        // schedulers ran, and nothing from the outage but what the policy makes up (counted below).
        let steps = zip(made.dropFirst(), made).map { $0.slot - $1.slot }
        #expect(steps.allSatisfy { $0 == 1000 }, "\(state.name): steps between slots \(steps)")
        #expect(first.slot >= restart - 1000, "\(state.name): a slot \(restart - first.slot) ms before the restart")
        #expect(state.lastSlot == last.slot && state.lastJob == last.id, "\(state)")
      }
      // run_once made up the outage with exactly one job; skip made up nothing and recorded the skip.
      #expect(catchup.madeUp == 1 && catchup.skipped == 0, "\(catchup)")
      #expect(dropper.skipped == 1 && dropper.madeUp == 0, "\(dropper)")

      // The operator sees both schedules as Redis holds them, the next slot included.
      let listed = try ChildProcess(
        executable: try Whago.binary, arguments: ["schedules", "--json"],
        environment: ["WHAGO_REDIS_URL": redisURL, "WHAGO_JOBS_DIR": catalog.directory], label: "cli")
      #expect(try await listed.waitForExit() == 0)
      let shown = try WireJSON.decoder.decode([CronState].self, from: Data(listed.output.utf8))
      #expect(shown == final)
      for state in final {
        let next = try #require(state.nextSlot, "\(state.name) has no next slot")
        #expect(next % 1000 == 0, "\(state)")
      }
    }
  }
}
