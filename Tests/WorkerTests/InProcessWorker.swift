import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Logging
import ServiceLifecycle
import TestSupport
import Worker

/// A worker run in the test's own process against the real Redis: the handlers are the test's, so
/// a test sees what each run was given and did, without a second process to read logs from.
enum InProcessWorker {
  /// A catalog of one fresh queue, with `jobs` given as `type: policy JSON` (the queue filled in).
  static func catalog(queue: String, jobs: [String: String]) throws -> JobCatalog {
    let entries = jobs.map { type, policy in
      #""\#(type)": {"queue": "\#(queue)"\#(policy.isEmpty ? "" : ", " + policy)}"#
    }
    return try JobCatalog.parse(
      Data(#"{"queues": {"\#(queue)": {"weight": 1}}, "jobs": {\#(entries.joined(separator: ", "))}}"#.utf8),
      source: "test")
  }

  /// Runs a worker over `catalog`'s queues while `body` runs, then shuts it down gracefully and
  /// waits for it: nothing of it outlives the call.
  static func with(
    catalog: JobCatalog, registry: HandlerRegistry, configure: (inout WorkerConfiguration) -> Void = { _ in },
    _ body: (Broker) async throws -> Void
  ) async throws {
    let broker = try TestRedis.broker()
    var configuration = WorkerConfiguration(
      queues: catalog.queues.keys.sorted().map { ($0, 1) }, concurrency: 4, name: "in-process-\(UUID().uuidString)")
    configure(&configuration)
    let worker = Worker(
      configuration: configuration, broker: broker, doorbell: try TestRedis.broker(), catalog: catalog,
      registry: registry, logger: Logger(label: "test.worker"))
    try await run(worker) { try await body(broker) }
  }

  /// Runs `worker` while `body` runs, then shuts it down gracefully and waits for it.
  static func run(_ worker: Worker, _ body: () async throws -> Void) async throws {
    let group = ServiceGroup(configuration: .init(services: [worker], logger: Logger(label: "test.group")))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
      tasks.addTask { try await group.run() }
      do {
        try await body()
      } catch {
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        throw error
      }
      await group.triggerGracefulShutdown()
      try await tasks.waitForAll()
    }
  }
}
