import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

extension WorkerProcessTests {
  @Suite struct FairnessWorkerTests {
    /// Tenant A enqueues 50,000 jobs, then tenant B enqueues 10: B's jobs all start within a second
    /// (by Redis time, from their enqueue to their lease).
    @Test func smallTenantStartsWithinASecondBehindFiftyThousand() async throws {
      let broker = try TestRedis.broker()
      let queue = TestRedis.queue()
      let worker = try Whago.worker(redis: try TestRedis.url.description, queues: queue, concurrency: 32)
      defer { worker.signal(SIGKILL) }
      _ = try await broker.enqueue(
        (0..<50_000).map { _ in JobSpec(type: "diag.sleep", payload: #"{"ms":20}"#, queue: queue, tenant: "A") })
      try await eventually("the worker to be busy with A") { try await broker.stats(queues: [queue])[0].active > 0 }
      let small = try await broker.enqueue(
        (0..<10).map { _ in JobSpec(type: "diag.sleep", payload: #"{"ms":20}"#, queue: queue, tenant: "B") }
      ).map(\.id)
      try await eventually("B's jobs to finish") {
        for id in small where try await broker.job(id: id).state != .done { return false }
        return true
      }
      for id in small {
        let info = try await broker.job(id: id)
        let waited = try #require(info.startedAt) - (try #require(info.enqueuedAt))
        #expect(waited <= 1000, "B's job \(id) waited \(waited) ms behind A's backlog")
      }
      #expect(try await broker.stats(queues: [queue])[0].ready > 40_000, "A's backlog is still there")
    }
  }
}
