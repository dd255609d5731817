import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

extension WorkerProcessTests {
  @Suite struct TimeoutTests {
    /// A run that outlives its job type's timeout is cancelled and charged as a failed attempt.
    @Test func runPastItsTimeoutIsCancelledAndCharged() async throws {
      // A catalog of our own, where diag.sleep may run 300 ms and gets 2 attempts.
      let queue = TestRedis.queue()
      let catalog = try TestCatalog(
        """
        {"queues": {"\(queue)": {"weight": 1}},
         "jobs": {"diag.sleep": {"queue": "\(queue)", "max_attempts": 2, "timeout_ms": 300,
                                 "backoff": {"base_ms": 10, "cap_ms": 10}}}}
        """)

      let broker = try TestRedis.broker()
      let slow = try await broker.enqueue(
        JobSpec(type: "diag.sleep", payload: #"{"ms":30000}"#, queue: queue, maxAttempts: 2)
      ).id
      let quick = try await broker.enqueue(JobSpec(type: "diag.sleep", payload: #"{"ms":10}"#, queue: queue)).id
      let worker = try catalog.worker(redis: try TestRedis.url.description, queues: queue, concurrency: 4)
      defer { worker.signal(SIGKILL) }
      try await eventually("the slow job to die of timeouts") { try await broker.job(id: slow).state == .dead }
      let info = try await broker.job(id: slow)
      #expect(info.attempts == 2)
      #expect(info.history.count == 2)
      #expect(info.history.allSatisfy { $0.error.contains("timed out after") })
      #expect(try await broker.job(id: quick).state == .done)
    }
  }
}
