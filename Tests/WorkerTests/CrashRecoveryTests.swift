import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

/// Real worker processes, really killed.
extension WorkerProcessTests {
  @Suite struct CrashRecoveryTests {
    @Test func workerKilledMidJobLosesNothingAndChargesNoAttempt() async throws {
      let redisURL = try TestRedis.url.description
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue()
      let ids = try await broker.enqueue(
        (0..<12).map { _ in JobSpec(type: "diag.sleep", payload: #"{"ms":1500}"#, queue: queue) }
      ).map(\.id)

      let first = try Whago.worker(redis: redisURL, queues: queue, concurrency: 6, lease: "1s")
      try await eventually("the first worker to hold 6 jobs") {
        try await broker.stats(queues: [queue])[0].active == 6
      }
      first.signal(SIGKILL)
      try await first.waitForExit()
      let stranded = try await broker.stats(queues: [queue])[0]
      #expect(stranded.active == 6, "the killed worker's leases are still held until they expire")
      #expect(stranded.processed == 0)

      let second = try Whago.worker(redis: redisURL, queues: queue, concurrency: 12, lease: "1s")
      defer { second.signal(SIGKILL) }
      try await eventually("every job to finish in the second worker") {
        try await broker.stats(queues: [queue])[0].processed == 12
      }
      var crashed = 0
      for id in ids {
        let info = try await broker.job(id: id)
        #expect(info.state == .done)
        #expect(info.attempts == 0, "a crash is not a failed attempt")
        crashed += info.crashes
      }
      #expect(crashed == 6, "exactly the six jobs the killed worker held were recovered once each")
      let stats = try await broker.stats(queues: [queue])[0]
      #expect(stats.recovered == 6)
      #expect(stats.dead == 0 && stats.failed == 0 && stats.active == 0 && stats.ready == 0)
    }

    @Test func jobThatKillsEveryWorkerIsDeadLetteredAfterTheCrashLimit() async throws {
      let redisURL = try TestRedis.url.description
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue()
      let poison = try await broker.enqueue(JobSpec(type: "diag.crash", queue: queue)).id
      let healthy = try await broker.enqueue(
        (0..<5).map { _ in JobSpec(type: "diag.sleep", payload: #"{"ms":10}"#, queue: queue) }
      ).map(\.id)

      var exits = 0
      try await eventually("the poison job to be dead-lettered", within: .seconds(90)) {
        if try await broker.job(id: poison).state == .dead { return true }
        let worker = try Whago.worker(redis: redisURL, queues: queue, concurrency: 1, lease: "1s")
        // Either the poison job kills it, or it outlives a few seconds doing healthy work.
        for _ in 0..<60 where worker.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        if worker.isRunning {
          worker.signal(SIGTERM)
        } else {
          exits += 1
        }
        try await worker.waitForExit()
        return false
      }
      #expect(exits == 3, "the poison job killed exactly crash-limit (3) workers")
      let info = try await broker.job(id: poison)
      #expect(info.crashes == 3)
      #expect(info.attempts == 0)
      #expect(info.history.last?.error.contains("crashed its worker 3 times") == true)

      // The rest of the queue is unharmed.
      let worker = try Whago.worker(redis: redisURL, queues: queue, concurrency: 4, lease: "1s")
      defer { worker.signal(SIGKILL) }
      try await eventually("the healthy jobs to finish") {
        for id in healthy where try await broker.job(id: id).state != .done { return false }
        return true
      }
    }

    @Test func sigtermHandsBackUnfinishedWorkAtOnce() async throws {
      let redisURL = try TestRedis.url.description
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue()
      let ids = try await broker.enqueue(
        (0..<2).map { _ in JobSpec(type: "diag.sleep", payload: #"{"ms":60000}"#, queue: queue) }
          + [JobSpec(type: "diag.sleep", payload: #"{"ms":200}"#, queue: queue)]
      ).map(\.id)
      // A long lease: only a hand-back, not lease expiry, can return the jobs within this test.
      let worker = try Whago.worker(redis: redisURL, queues: queue, concurrency: 3, lease: "60s", grace: "1s")
      try await eventually("all three jobs to start") {
        try await broker.stats(queues: [queue])[0].active == 3
      }
      worker.signal(SIGTERM)
      let status = try await worker.waitForExit(within: .seconds(20))
      #expect(status == 0)
      // The short job finished inside the grace period; the long ones went straight back.
      #expect(try await broker.job(id: ids[2]).state == .done)
      for id in ids.prefix(2) {
        let info = try await broker.job(id: id)
        #expect(info.state == .ready)
        #expect(info.attempts == 0 && info.crashes == 0)
      }
      let stats = try await broker.stats(queues: [queue])[0]
      #expect(stats.active == 0 && stats.ready == 2)
    }
  }
}
