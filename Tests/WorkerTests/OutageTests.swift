import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Logging
import Postgres
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing
import Worker

/// A job whose database is out of reach is not failing: the worker runs it again after a pause
/// without charging an attempt, so an outage longer than its retries kills no job, while a real
/// failure still is charged. The worker runs in this process, against the real Redis.
@Suite struct OutageTests {
  enum ProbeJob: JobContract {
    static let type = "test.outage"
    struct Parameters: Codable, Sendable { var fail: String }
  }

  /// Throws an outage for its first `outages` runs, then what `fail` says (`none` or `bug`).
  struct Probe: JobHandler {
    typealias Contract = ProbeJob
    let runs: Runs
    let outages: Int
    func run(_ parameters: ProbeJob.Parameters, context: JobContext) async throws {
      let run = runs.next()
      if run <= outages { throw PostgresError(.connectFailed, "connection refused (the test's outage)") }
      if parameters.fail == "bug" { throw PermanentFailure("a real failure") }
    }
  }

  final class Runs: Sendable {
    private let count = Mutex(0)
    func next() -> Int {
      count.withLock {
        $0 += 1; return $0
      }
    }
    var total: Int { count.withLock { $0 } }
  }

  @Test func anOutageIsNotChargedAnAttemptAndARealFailureStillIs() async throws {
    let queue = TestRedis.queue()
    let catalog = try JobCatalog.parse(
      Data(
        #"""
        {"queues": {"\#(queue)": {"weight": 1}},
         "jobs": {"test.outage": {"queue": "\#(queue)", "max_attempts": 1, "timeout_ms": 10000}}}
        """#.utf8), source: "test")
    let broker = try TestRedis.broker()
    let (survivor, survivorRuns) = (try await enqueue(broker, catalog, fail: "none"), Runs())
    var registry = HandlerRegistry()
    registry.register(Probe(runs: survivorRuns, outages: 3))
    registry.treatAsOutage { ($0 as? PostgresError)?.isOutage == true }
    var configuration = WorkerConfiguration(queues: [(queue, 1)], concurrency: 2, name: "outage-test-\(queue)")
    configuration.outagePause = .milliseconds(100)
    let worker = Worker(
      configuration: configuration, broker: broker, doorbell: try TestRedis.broker(), catalog: catalog,
      registry: registry, logger: Logger(label: "test.worker"))
    try await InProcessWorker.run(worker) {
      // One attempt allowed, three outages met: it still ends done, on its fourth run.
      try await eventually("the job to finish after the outage") {
        try await broker.job(id: survivor).state == .done
      }
    }
    #expect(survivorRuns.total == 4)
    #expect(try await broker.job(id: survivor).attempts <= 1)

    // Without the outage the same single attempt is spent on a real failure: dead at once.
    let (doomed, doomedRuns) = (try await enqueue(broker, catalog, fail: "bug"), Runs())
    var plain = HandlerRegistry()
    plain.register(Probe(runs: doomedRuns, outages: 0))
    plain.treatAsOutage { ($0 as? PostgresError)?.isOutage == true }
    let second = Worker(
      configuration: configuration, broker: broker, doorbell: try TestRedis.broker(), catalog: catalog,
      registry: plain, logger: Logger(label: "test.worker"))
    try await InProcessWorker.run(second) {
      try await eventually("the failing job to be dead") { try await broker.job(id: doomed).state == .dead }
    }
    #expect(doomedRuns.total == 1)
  }

  func enqueue(_ broker: Broker, _ catalog: JobCatalog, fail: String) async throws -> String {
    try await broker.enqueue(ProbeJob.spec(.init(fail: fail), catalog: catalog)).id
  }
}
