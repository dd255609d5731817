import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

extension WorkerProcessTests {
  @Suite struct WorkerBehaviourTests {
    @Test func retriesFollowThePolicyAndEndDeadWithHistory() async throws {
      let redisURL = try TestRedis.url.description
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue()
      // diag.fail backs off from 200 ms (jobs/catalog.json); the first fails twice then succeeds,
      // the second never gets enough attempts.
      let recovers = try await broker.enqueue(
        JobSpec(type: "diag.fail", payload: #"{"times":2}"#, queue: queue, maxAttempts: 5)
      ).id
      let dies = try await broker.enqueue(
        JobSpec(type: "diag.fail", payload: #"{"times":10}"#, queue: queue, maxAttempts: 3)
      ).id
      let worker = try Whago.worker(redis: redisURL, queues: queue, concurrency: 4)
      defer { worker.signal(SIGKILL) }
      try await eventually("both jobs to settle") {
        let a = try await broker.job(id: recovers).state
        let b = try await broker.job(id: dies).state
        return a == .done && b == .dead
      }
      let ok = try await broker.job(id: recovers)
      #expect(ok.attempts == 2)
      #expect(ok.history.count == 2)
      let dead = try await broker.job(id: dies)
      #expect(dead.attempts == 3)
      #expect(dead.history.map(\.attempt) == [1, 2, 3])
      #expect(dead.history.allSatisfy { $0.error.contains("diag.fail") })
      // Backoff by Redis time: attempt n+1 came at least half of 200 ms * 2^(n-1) after attempt n.
      let gaps = zip(dead.history.dropFirst(), dead.history).map { $0.at - $1.at }
      #expect(gaps.count == 2)
      #expect(gaps[0] >= 100 && gaps[1] >= 200, "gaps \(gaps)")
    }

    @Test func delayedJobsStartAtTheirDueTimeNotBefore() async throws {
      let redisURL = try TestRedis.url.description
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue()
      let worker = try Whago.worker(redis: redisURL, queues: queue, concurrency: 8)
      defer { worker.signal(SIGKILL) }
      let ids = try await broker.enqueue(
        [300, 700, 1200].map { JobSpec(type: "diag.noop", queue: queue, when: .after(.milliseconds($0))) }
      ).map(\.id)
      try await eventually("the delayed jobs to run") {
        try await broker.stats(queues: [queue])[0].processed == 3
      }
      for id in ids {
        let info = try await broker.job(id: id)
        let due = try #require(info.dueAt)
        let started = try #require(info.startedAt)
        #expect(started >= due, "job started \(due - started) ms early")
      }
    }

    @Test func corruptJobIsDeadLetteredAndTheWorkerKeepsGoing() async throws {
      let redisURL = try TestRedis.url.description
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue()
      let keys = QueueKeys(queue: queue)
      try await broker.pause(queue: queue)
      let ids = try await broker.enqueue((0..<4).map { _ in JobSpec(type: "diag.noop", queue: queue) }).map(\.id)
      try await broker.redis.send("DEL", keys.job(ids[1]))
      try await broker.redis.send("SET", keys.job(ids[1]), "not a hash")
      try await broker.redis.send("HSET", keys.job(ids[2]), "t", "no.such.type")
      let worker = try Whago.worker(redis: redisURL, queues: queue, concurrency: 2)
      defer { worker.signal(SIGKILL) }
      try await broker.resume(queue: queue)
      try await eventually("the sound jobs to finish and the bad ones to die") {
        let s = try await broker.stats(queues: [queue])[0]
        return s.processed == 2 && s.dead == 2
      }
      let notAHash = try await broker.job(id: ids[1])
      #expect(notAHash.history.first?.error.contains("not a hash") == true)
      let unknownType = try await broker.job(id: ids[2])
      #expect(unknownType.state == .dead)
      #expect(unknownType.history.first?.error.contains("unknown job type 'no.such.type'") == true)
      #expect(worker.isRunning, "\(worker.output.suffix(3000))")
    }

    @Test func workersSurviveARedisRestartWithoutRestartingThemselves() async throws {
      let (server, broker) = try await RedisServer.running()
      let queue = TestRedis.queue()
      let worker = try Whago.worker(redis: server.urlString, queues: queue, concurrency: 8)
      defer { worker.signal(SIGKILL) }
      _ = try await broker.enqueue((0..<200).map { _ in JobSpec(type: "diag.noop", queue: queue) })
      try await eventually("the first 200 jobs") { try await broker.stats(queues: [queue])[0].processed == 200 }

      try await server.restart()
      #expect(worker.isRunning, "\(worker.output.suffix(3000))")
      // Enqueue after the restart: the client reconnects by itself; scripts are reloaded (NOSCRIPT).
      try await eventually("an enqueue to succeed after the restart") {
        (try? await broker.enqueue((0..<200).map { _ in JobSpec(type: "diag.noop", queue: queue) })) != nil
      }
      try await eventually("the worker to drain the jobs enqueued after the restart") {
        try await broker.stats(queues: [queue])[0].processed == 400
      }
      #expect(worker.isRunning, "\(worker.output.suffix(3000))")
      #expect(worker.pid > 0)
    }

    /// Redis away for longer than a lease, three times, with jobs running through every outage:
    /// the leases that ran out meanwhile are an outage, not crashes, so no job dies as "poison".
    @Test func threeRedisOutagesLongerThanALeaseKillNoJob() async throws {
      let (server, broker) = try await RedisServer.running()
      let queue = TestRedis.queue()
      let worker = try Whago.worker(redis: server.urlString, queues: queue, concurrency: 16, lease: "2s")
      defer { worker.signal(SIGKILL) }
      // Long enough to run through all three outages; a few quick ones keep the queue busy.
      _ = try await broker.enqueue(
        (0..<8).map { _ in JobSpec(type: "diag.sleep", payload: #"{"ms":25000}"#, queue: queue) }
          + (0..<200).map { _ in JobSpec(type: "diag.noop", queue: queue) })
      try await eventually("the quick jobs done, the long ones running") {
        let stats = try await broker.stats(queues: [queue])[0]
        return stats.processed == 200 && stats.active == 8
      }
      for _ in 0..<3 {
        try await server.stop()
        try await Task.sleep(for: .seconds(4))
        try server.start()
        try await server.waitUntilReady()
        try await Task.sleep(for: .seconds(1))
      }
      try await eventually("every job to finish", within: .seconds(90)) {
        (try? await broker.stats(queues: [queue])[0].processed) == 208
      }
      let stats = try await broker.stats(queues: [queue])[0]
      #expect(stats.dead == 0)
      #expect(stats.recovered == 0, "\(stats.recovered) jobs were recovered as if their worker had died")
      #expect(worker.isRunning, "\(worker.output.suffix(3000))")
    }

    @Test func metricsEndpointCountsProcessedJobs() async throws {
      let redisURL = try TestRedis.url.description
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue()
      let worker = try Whago.worker(redis: redisURL, queues: queue, extra: ["--metrics-port", "0"])
      defer { worker.signal(SIGKILL) }
      let port = try await worker.listeningPort(after: "metrics listening on http://")
      _ = try await broker.enqueue((0..<25).map { _ in JobSpec(type: "diag.noop", queue: queue) })
      try await eventually("25 jobs processed") { try await broker.stats(queues: [queue])[0].processed == 25 }
      var body = ""
      try await eventually("the metrics endpoint to answer") {
        let url = URL(string: "http://127.0.0.1:\(port)/metrics")!
        body = (try? await URLSession.shared.data(from: url)).map { String(decoding: $0.0, as: UTF8.self) } ?? ""
        return body.contains("whago_jobs_processed_total")
      }
      let line = body.split(separator: "\n").first {
        $0.hasPrefix("whago_jobs_processed_total") && $0.contains("queue=\"\(queue)\"")
      }
      #expect(line?.hasSuffix(" 25") == true, "\(line ?? "no line for the queue")")

      // Idle, the worker waits on its doorbell and poll interval instead of fetching in a loop.
      func fetches() async throws -> Double {
        let url = URL(string: "http://127.0.0.1:\(port)/metrics")!
        let text = String(decoding: try await URLSession.shared.data(from: url).0, as: UTF8.self)
        let sample = text.split(separator: "\n").first { $0.hasPrefix("whago_fetches_total ") }
        return Double(sample?.split(separator: " ").last ?? "") ?? -1
      }
      let before = try await fetches()
      try await Task.sleep(for: .seconds(2))
      let idleFetches = try await fetches() - before
      #expect(before >= 0 && idleFetches >= 0 && idleFetches <= 10, "\(idleFetches) fetches in 2 idle seconds")
    }
  }
}
