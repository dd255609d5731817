import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing
import Wire

extension WorkerProcessTests {
  /// The operator's read and bulk commands, against seeded Redis, through the real CLI.
  @Suite struct OperatorCommandTests {
    /// Dead letters with distinct types, tenants and errors, made through the real fail path.
    func seed(_ broker: Broker, queue: String) async throws -> [String: [String]] {
      let plan: [(type: String, tenant: String?, error: String, count: Int)] = [
        ("diag.fail", "acme", "WAHA timeout after 30s", 3),
        ("diag.fail", "globex", "number not on WhatsApp", 2),
        ("diag.sleep", "acme", "Gateway TIMEOUT", 1),
      ]
      var ids: [String: [String]] = [:]
      for (index, group) in plan.enumerated() {
        let payload = group.type == "diag.sleep" ? #"{"ms":1}"# : #"{"times":9}"#
        let made = try await broker.enqueue(
          (0..<group.count).map { _ in
            JobSpec(type: group.type, payload: payload, queue: queue, maxAttempts: 1, tenant: group.tenant)
          }
        ).map(\.id)
        var failed = 0
        while failed < made.count {
          let jobs = try await broker.fetch(queue: queue, limit: 100, lease: .seconds(60), token: "seed\(index)").jobs
          try #require(!jobs.isEmpty)
          for job in jobs { _ = try await broker.fail(job, error: group.error, retryAfter: nil) }
          failed += jobs.count
        }
        ids["\(group.type)/\(group.tenant ?? "")/\(group.error)"] = made
      }
      return ids
    }

    @Test func deadFiltersShowExportAndImport() async throws {
      let redis = try TestRedis.url.description
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue()
      let seeded = try await seed(broker, queue: queue)
      func list(_ args: [String]) async throws -> [DeadLetter] {
        let result = try await Whago.run(["dead", "list", "--queue", queue, "--json"] + args, redis: redis)
        #expect(result.status == 0, "\(result.output)")
        return try WireJSON.decoder.decode([DeadLetter].self, from: Data(result.output.utf8))
      }
      #expect(try await list([]).count == 6)
      #expect(try await list(["--type", "diag.sleep"]).count == 1)
      #expect(try await list(["--tenant", "acme"]).count == 4)
      #expect(Set(try await list(["--error", "timeout"]).map(\.id)).count == 4)  // any case
      #expect(try await list(["--tenant", "globex", "--error", "whatsapp"]).count == 2)
      #expect(try await list(["--since", "1h"]).count == 6)
      #expect(try await list(["--limit", "2"]).count == 2)
      let table = try await Whago.run(["dead", "list", "--queue", queue, "--tenant", "globex"], redis: redis)
      #expect(table.output.contains("TENANT") && table.output.contains("number not on WhatsApp"))

      let id = try #require(seeded["diag.sleep/acme/Gateway TIMEOUT"]?.first)
      let shown = try await Whago.run(["dead", "show", id], redis: redis)
      #expect(shown.status == 0)
      #expect(
        shown.output.contains(#"{"ms":1}"#) && shown.output.contains("#1 failed")
          && shown.output.contains("Gateway TIMEOUT"))

      // Export the acme jobs, delete them, import them back: the same records, and a re-run imports nothing twice.
      let exported = try await Whago.run(["dead", "export", "--queue", queue, "--tenant", "acme"], redis: redis)
      #expect(exported.status == 0)
      let lines = exported.output.split(separator: "\n").filter { $0.hasPrefix("{") }
      #expect(lines.count == 4)
      let records = try lines.map { try JSONDecoder().decode(DeadRecord.self, from: Data($0.utf8)) }
      #expect(records.allSatisfy { $0.tenant == "acme" && $0.history.count == 1 })
      let file = NSTemporaryDirectory() + "dead-\(queue).jsonl"
      try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
      defer { try? FileManager.default.removeItem(atPath: file) }
      let deleted = try await Whago.run(
        ["dead", "delete", "--all", "--queue", queue, "--tenant", "acme", "--yes"], redis: redis)
      #expect(deleted.output.contains("deleted 4"), "\(deleted.output)")
      #expect(try await list([]).count == 2)
      let imported = try await Whago.run(["dead", "import", file], redis: redis)
      #expect(imported.status == 0 && imported.output.contains("imported 4"), "\(imported.output)")
      let again = try await Whago.run(["dead", "import", file], redis: redis)
      #expect(again.output.contains("imported 0") && again.output.contains("skipped 4"), "\(again.output)")
      #expect(try await broker.deadRecords(queue: queue, ids: records.map(\.id)) == records)

      // Retry by filter: only the matching jobs come back, with a fresh budget.
      let retried = try await Whago.run(
        ["dead", "retry", "--all", "--queue", queue, "--error", "whatsapp"], redis: redis)
      #expect(retried.output.contains("retried 2"), "\(retried.output)")
      let stats = try await broker.stats(queues: [queue])[0]
      #expect(stats.dead == 4 && stats.ready == 2)
      let garbageFile = NSTemporaryDirectory() + "garbage-\(queue).jsonl"
      try "not json\n".write(toFile: garbageFile, atomically: true, encoding: .utf8)
      defer { try? FileManager.default.removeItem(atPath: garbageFile) }
      let garbage = try await Whago.run(["dead", "import", garbageFile], redis: redis)
      #expect(garbage.status != 0 && garbage.output.contains("line 1"), "\(garbage.output)")
    }

    @Test func queuesShowRatesAndTheOldestWait() async throws {
      let redis = try TestRedis.url.description
      let broker = try TestRedis.broker()
      // The per-minute rates slide as Redis's minute turns: 3 done read as 3 only while it is the
      // minute they were done in. Each attempt is bracketed by Redis time (the clock the counts and
      // the CLI's read use); one that crossed a minute boundary is checked only for what the
      // sliding estimate allows and is run again on a fresh queue, which then starts just after
      // the boundary it crossed. However slow the machine, the attempt that stays inside one minute
      // must show exactly 3 and 1.
      var queue = ""
      for attempt in 1...3 {
        queue = TestRedis.queue()
        let start = try await broker.redisTime()
        _ = try await broker.enqueue((0..<10).map { _ in JobSpec(type: "diag.noop", queue: queue) })
        let jobs = try await broker.fetch(queue: queue, limit: 4, lease: .seconds(60), token: "t").jobs
        #expect(try await broker.ack(queue: queue, jobs.prefix(3).map { ($0.id, $0.token) }).count == 3)
        _ = try await broker.fail(jobs[3], error: "boom", retryAfter: nil)
        try await Task.sleep(for: .milliseconds(20))
        let result = try await Whago.run(["queues", "--json"], redis: redis)
        let end = try await broker.redisTime()
        #expect(result.status == 0)
        let all = try WireJSON.decoder.decode([QueueStats].self, from: Data(result.output.utf8))
        let stats = try #require(all.first { $0.queue == queue })
        #expect(stats.ready == 6 && stats.processed == 3 && stats.failed == 1 && stats.dead == 1)
        #expect((stats.oldestReadyAgeMs ?? -1) >= 20 && (stats.oldestReadyAgeMs ?? .max) <= end - start)
        let points = try await broker.throughput(queue: queue, minutes: 60)
        #expect(points.count == 60)
        #expect(points.map(\.processed).reduce(0, +) == 3 && points.map(\.failed).reduce(0, +) == 1)
        if start / 60_000 == end / 60_000 {
          #expect(stats.processedLastMinute == 3 && stats.failedLastMinute == 1, "attempt \(attempt): \(stats)")
          break
        }
        #expect((0...3).contains(stats.processedLastMinute) && (0...1).contains(stats.failedLastMinute))
        if attempt == 3 {
          Issue.record("every attempt crossed a minute boundary (the last took \(end - start) ms)")
          return
        }
      }
      let table = try await Whago.run(["queues"], redis: redis)
      #expect(table.output.contains("DONE/MIN") && table.output.contains("OLDEST") && table.output.contains(queue))
      // Not a terminal: no colour codes.
      #expect(!table.output.contains("\u{1B}["))
    }

    @Test func limitsAndWorkers() async throws {
      let redis = try TestRedis.url.description
      let broker = try TestRedis.broker()
      let tenant = "lim\(UInt32.random(in: 0...UInt32.max))"
      _ = try await broker.take([TokenBucket(name: "api:\(tenant)", capacity: 10, refillPerSecond: 2)])
      _ = try await broker.take(
        [TokenBucket(name: "tenant:\(tenant):day", capacity: 1000, refillPerSecond: 0.5, cost: 5)])
      let result = try await Whago.run(["limits", tenant, "--json"], redis: redis)
      #expect(result.status == 0, "\(result.output)")
      let buckets = try WireJSON.decoder.decode([BucketLevel].self, from: Data(result.output.utf8))
      #expect(buckets.map(\.name) == ["api:\(tenant)", "tenant:\(tenant):day"])
      #expect(
        buckets[0].capacity == 10 && buckets[0].refillPerSecond == 2 && buckets[0].level >= 9 && buckets[0].level <= 10)
      #expect(buckets[1].capacity == 1000 && buckets[1].level >= 995 && buckets[1].level < 996)

      let queue = TestRedis.queue()
      let worker = try Whago.worker(redis: redis, queues: queue, concurrency: 7)
      try await eventually("the worker to be listed") {
        try await broker.workers().contains { $0.pid == Int(worker.pid) }
      }
      let listed = try await Whago.run(["workers", "--json"], redis: redis)
      let workers = try WireJSON.decoder.decode([WorkerStatus].self, from: Data(listed.output.utf8))
      let mine = try #require(workers.first { $0.pid == Int(worker.pid) })
      #expect(mine.concurrency == 7 && mine.queues == [queue] && mine.lastSeenAt >= mine.startedAt)
      worker.signal(SIGTERM)
      try await worker.waitForExit()
      // A clean stop says goodbye at once.
      #expect(try await broker.workers().contains { $0.pid == Int(worker.pid) } == false)
    }
  }
}
