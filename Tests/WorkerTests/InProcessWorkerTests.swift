import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Synchronization
import TestSupport
import Testing

@testable import Worker

/// Worker parts run in this process against the real Redis, with handlers written here: what a
/// handler is given, when it is cancelled and what a shutdown leaves behind are read directly.
@Suite struct InProcessWorkerTests {
  enum CountJob: JobContract {
    static let type = "test.count"
    struct Parameters: Codable, Sendable, Equatable {
      var count: Int
      var label: String
    }
  }

  enum SlowJob: JobContract {
    static let type = "test.slow"
    typealias Parameters = NoParameters
  }

  /// What the handlers saw, for the test to read.
  final class Log: Sendable {
    private let parameters = Mutex<[CountJob.Parameters]>([])
    private let runs = Mutex(0)
    private let cancellations = Mutex(0)

    func saw(_ value: CountJob.Parameters) { parameters.withLock { $0.append(value) } }
    var seen: [CountJob.Parameters] { parameters.withLock { $0 } }
    func start() { runs.withLock { $0 += 1 } }
    var started: Int { runs.withLock { $0 } }
    func cancel() { cancellations.withLock { $0 += 1 } }
    var cancelled: Int { cancellations.withLock { $0 } }
  }

  struct Counter: JobHandler {
    typealias Contract = CountJob
    let log: Log
    func run(_ parameters: CountJob.Parameters, context: JobContext) async throws { log.saw(parameters) }
  }

  /// Sleeps a minute unless cancelled, and says which happened.
  struct Sleeper: JobHandler {
    typealias Contract = SlowJob
    let log: Log
    func run(_ parameters: NoParameters, context: JobContext) async throws {
      log.start()
      do {
        try await Task.sleep(for: .seconds(60))
      } catch is CancellationError {
        log.cancel()
        throw CancellationError()
      }
    }
  }

  @Test func aHandlerGetsTheParametersItsProducerEncodedAndAPayloadThatDoesNotFitIsDeadAtOnce() async throws {
    let queue = TestRedis.queue()
    let catalog = try InProcessWorker.catalog(queue: queue, jobs: [CountJob.type: #""max_attempts": 5"#])
    let log = Log()
    var registry = HandlerRegistry()
    registry.register(Counter(log: log))
    try await InProcessWorker.with(catalog: catalog, registry: registry) { broker in
      let good = try await broker.enqueue(CountJob.spec(.init(count: 3, label: "três"), catalog: catalog)).id
      // Written by hand, as a producer outside Swift might: `count` is text, not a number.
      let bad = try await broker.enqueue(
        JobSpec(type: CountJob.type, payload: #"{"count":"three","label":"x"}"#, queue: queue, maxAttempts: 5)
      ).id
      try await eventually("both jobs to end") {
        let goodState = try await broker.job(id: good).state
        let badState = try await broker.job(id: bad).state
        return goodState == .done && badState == .dead
      }
      #expect(log.seen == [.init(count: 3, label: "três")])
      let dead = try await broker.job(id: bad)
      // Dead on its first attempt: no retry can make the payload fit.
      #expect(dead.attempts == 1, "\(dead.history)")
      let error = try #require(dead.history.last?.error)
      #expect(error.contains("count"), "\(error)")
    }
  }

  @Test func aRunPastItsTimeoutIsCancelledAndChargedUntilItIsDead() async throws {
    let queue = TestRedis.queue()
    let catalog = try InProcessWorker.catalog(
      queue: queue, jobs: [SlowJob.type: #""max_attempts": 2, "timeout_ms": 300, "backoff": {"base_ms": 50}"#])
    let log = Log()
    var registry = HandlerRegistry()
    registry.register(Sleeper(log: log))
    try await InProcessWorker.with(catalog: catalog, registry: registry) { broker in
      let id = try await broker.enqueue(SlowJob.spec(NoParameters(), catalog: catalog)).id
      try await eventually("the job to be dead after its two timed-out attempts") {
        try await broker.job(id: id).state == .dead
      }
      let job = try await broker.job(id: id)
      #expect(job.attempts == 2)
      #expect(job.history.map(\.kind) == ["failed", "failed"], "\(job.history)")
      #expect(
        job.history.allSatisfy { $0.error.contains("timeout") || $0.error.contains("timed out") }, "\(job.history)")
    }
    // Each run saw its cancellation rather than being abandoned mid-sleep.
    #expect(log.started == 2)
    #expect(log.cancelled == 2)
  }

  @Test func aShutdownHandsBackWhatIsStillRunningUnchargedAndCancelsIt() async throws {
    let queue = TestRedis.queue()
    let catalog = try InProcessWorker.catalog(queue: queue, jobs: [SlowJob.type: #""max_attempts": 1"#])
    let log = Log()
    var registry = HandlerRegistry()
    registry.register(Sleeper(log: log))
    var id = ""
    let broker = try TestRedis.broker()
    // A 60 s lease and a 300 ms grace period: what is running at the shutdown is handed back
    // at once, not left to its lease.
    try await InProcessWorker.with(
      catalog: catalog, registry: registry,
      configure: {
        $0.lease = .seconds(60)
        $0.gracePeriod = .milliseconds(300)
      }
    ) { broker in
      id = try await broker.enqueue(SlowJob.spec(NoParameters(), catalog: catalog)).id
      try await eventually("the job to be running") { log.started == 1 }
    }
    let job = try await broker.job(id: id)
    #expect(job.state == .ready, "\(job.state)")
    #expect(job.attempts == 0 && job.crashes == 0, "attempts \(job.attempts), crashes \(job.crashes)")
    #expect(log.cancelled == 1)
  }

  @Test func eachQueueComesFirstInProportionToItsWeight() {
    let order = WeightedOrder(queues: [("campaigns", 6), ("billing", 3), ("maturation", 1)])
    var generator = SeededGenerator(seed: 20_261_205)
    var first: [String: Int] = [:]
    let draws = 20_000
    for _ in 0..<draws {
      let next = order.next(using: &generator)
      #expect(next.sorted() == ["billing", "campaigns", "maturation"])
      first[next[0], default: 0] += 1
    }
    // Expected shares 60%, 30%, 10%; 20,000 draws put each within 1.5 points.
    for (queue, share) in [("campaigns", 0.6), ("billing", 0.3), ("maturation", 0.1)] {
      let seen = Double(first[queue] ?? 0) / Double(draws)
      #expect(abs(seen - share) < 0.015, "\(queue) first in \(seen) of draws, expected \(share)")
    }
  }
}

extension InProcessWorkerTests {
  /// Each run a worker finishes or fails is counted in the charts' aggregates, by type, with its
  /// runtime and its wait from ready to started.
  @Test func aWorkerCountsItsRunsForTheCharts() async throws {
    let queue = TestRedis.queue()
    let catalog = try InProcessWorker.catalog(queue: queue, jobs: [CountJob.type: #""max_attempts": 5"#])
    let log = Log()
    var registry = HandlerRegistry()
    registry.register(Counter(log: log))
    try await InProcessWorker.with(catalog: catalog, registry: registry) { broker in
      for n in 0..<20 { _ = try await broker.enqueue(CountJob.spec(.init(count: n, label: "c"), catalog: catalog)) }
      // A payload that does not fit fails once and is dead.
      _ = try await broker.enqueue(
        JobSpec(type: CountJob.type, payload: #"{"count":"x","label":"x"}"#, queue: queue, maxAttempts: 5))
      try await eventually("the runs to be counted") {
        let totals = try await broker.runStats(queue: queue, bars: 5).byType.first?.totals
        return totals?.processed == 20 && totals?.failed == 1
      }
      let stats = try await broker.runStats(queue: queue, type: CountJob.type, bars: 5)
      #expect(stats.byType.map(\.type) == [CountJob.type])
      #expect(stats.points.map(\.processed).reduce(0, +) == 20)
      #expect(stats.points.compactMap(\.runtimeP99Ms).allSatisfy { $0 >= 1 })
      #expect(stats.points.contains { $0.waitP99Ms != nil })
    }
  }
}
