import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Logging
import RedisClient
import TestSupport
import Testing

@testable import Worker

/// The upgrade path across the leases hash (README, "Upgrading"): a worker does not start beside
/// workers of another lease layout, says which, and starts once they are gone.
@Suite struct UpgradeGateTests {
  @Test func aWorkerRefusesToStartBesideAnEarlierVersionAndStartsOnceItLeft() async throws {
    // The worker registry is one key for the whole Redis: a database of its own keeps this test's
    // earlier worker out of the way of every other test's workers.
    var url = try TestRedis.url
    url.database = 7
    let broker = Broker(redis: RedisClient(url: url))
    let queue = TestRedis.queue()
    let earlier = WorkerStatus(
      name: "earlier-\(UUID().uuidString)", host: "old-host", pid: 4242, queues: [queue], concurrency: 8, running: 3,
      jobs: [], startedAt: 0, leaseLayout: nil)
    // A record as the earlier version wrote it: no lease layout in it.
    let json = String(decoding: try JSONEncoder().encode(earlier), as: UTF8.self)
    #expect(!json.contains("leaseLayout"))
    try await broker.heartbeat(earlier, lifetime: .seconds(60))
    #expect(try await broker.workers().first { $0.name == earlier.name }?.leaseLayout == nil)

    let catalog = try InProcessWorker.catalog(queue: queue, jobs: ["diag.noop": #""max_attempts": 1"#])
    var registry = HandlerRegistry()
    registry.register(DiagnosticJobs.Noop())
    func worker() -> Worker {
      Worker(
        configuration: WorkerConfiguration(queues: [(queue, 1)], concurrency: 2, name: "new-\(UUID().uuidString)"),
        broker: broker, doorbell: Broker(redis: RedisClient(url: url)), catalog: catalog, registry: registry,
        logger: Logger(label: "test.worker"))
    }
    let refused = await #expect(throws: OtherLayoutWorkersRunning.self) { try await worker().run() }
    #expect(refused?.workers.map(\.name) == [earlier.name])
    #expect(refused?.description.contains("\(earlier.name) (old-host, pid 4242, lease layout 1)") == true)
    #expect(refused?.description.contains("SIGTERM") == true)

    // The earlier worker stops (a clean stop says goodbye): the new one starts and runs jobs.
    try await broker.heartbeat(earlier, leaving: true)
    try await InProcessWorker.run(worker()) {
      let id = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, maxAttempts: 1)).id
      try await eventually("the new worker to run the job") { try await broker.job(id: id).state == .done }
      try await eventually("the new worker to be listed") { try await !broker.workers().isEmpty }
      #expect(try await broker.workers().allSatisfy { $0.leaseLayout == Broker.leaseLayout })
    }
  }
}
