import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing
import Wire

extension WorkerProcessTests {
  @Suite struct DeadLetterCommandTests {
    /// Puts `count` jobs of `queue` in the dead-letter set through the real fail path.
    func seedDead(_ broker: Broker, queue: String, count: Int) async throws -> [String] {
      let ids = try await broker.enqueue(
        (0..<count).map { _ in JobSpec(type: "diag.fail", payload: #"{"times":9}"#, queue: queue, maxAttempts: 1) }
      ).map(\.id)
      var dead = 0
      while dead < count {
        let jobs = try await broker.fetch(queue: queue, limit: 500, lease: .seconds(60), token: "seed:\(dead)").jobs
        try #require(!jobs.isEmpty)
        try await withThrowingTaskGroup(of: FailOutcome.self) { group in
          for job in jobs { group.addTask { try await broker.fail(job, error: "gateway said no", retryAfter: nil) } }
          for try await outcome in group { #expect(outcome == .dead) }
        }
        dead += jobs.count
      }
      return ids
    }

    @Test func listRetryAndDeleteDeadJobs() async throws {
      let redisURL = try TestRedis.url.description
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue()
      let ids = try await seedDead(broker, queue: queue, count: 5)

      let listed = try await Whago.run(["dead", "list", "--queue", queue, "--json"], redis: redisURL)
      #expect(listed.status == 0, "\(listed.output)")
      let letters = try WireJSON.decoder.decode([DeadLetter].self, from: Data(listed.output.utf8))
      #expect(Set(letters.map(\.id)) == Set(ids))
      #expect(letters.allSatisfy { $0.lastError == "gateway said no" && $0.attempts == 1 && $0.type == "diag.fail" })

      // Delete needs a confirmation: without a terminal and without --yes nothing happens.
      let refused = try await Whago.run(["dead", "delete", ids[0]], redis: redisURL)
      #expect(refused.status != 0 && refused.output.contains("--yes"), "\(refused.output)")
      #expect(try await broker.stats(queues: [queue])[0].dead == 5)
      let deleted = try await Whago.run(["dead", "delete", ids[0], "--yes"], redis: redisURL)
      #expect(deleted.status == 0 && deleted.output.contains("deleted 1"))
      await #expect(throws: QueueError.self) { try await broker.job(id: ids[0]) }

      // Retry one by id, then the rest with --all: fresh attempt budget, history kept.
      let one = try await Whago.run(["dead", "retry", ids[1]], redis: redisURL)
      #expect(one.status == 0 && one.output.contains("retried 1"), "\(one.output)")
      let rest = try await Whago.run(["dead", "retry", "--all", "--queue", queue], redis: redisURL)
      #expect(rest.status == 0 && rest.output.contains("retried 3"), "\(rest.output)")
      let stats = try await broker.stats(queues: [queue])[0]
      #expect(stats.dead == 0 && stats.ready == 4)
      let info = try await broker.job(id: ids[2])
      #expect(info.state == .ready && info.attempts == 0 && info.history.count == 1)
    }

    @Test func anInterruptedBulkRetryResumesWithoutLossOrDuplicates() async throws {
      let redisURL = try TestRedis.url.description
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue()
      let ids = try await seedDead(broker, queue: queue, count: 2_500)
      // The first run is cut off after part of the work (as if interrupted): 700 retried.
      #expect(try await broker.retryDead(queue: queue, ids: Array(ids.prefix(700))) == 700)
      // Running it again over everything retries the rest, and never a job twice.
      let again = try await Whago.run(["dead", "retry", "--all", "--queue", queue, "--spread", "0ms"], redis: redisURL)
      #expect(again.status == 0 && again.output.contains("retried 1800"), "\(again.output)")
      let stats = try await broker.stats(queues: [queue])[0]
      #expect(stats.dead == 0 && stats.ready == 2_500)
      let lane = try await broker.redis.send("LRANGE", QueueKeys(queue: queue).ready, "0", "-1").array ?? []
      #expect(Set(lane.compactMap(\.string)) == Set(ids) && lane.count == 2_500)
    }
  }
}
