import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

@Suite struct EnqueueTests {
  @Test func enqueuedJobIsReadyAndReadable() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let result = try await broker.enqueue(JobSpec(type: "diag.echo", payload: #"{"message":"oi"}"#, queue: queue))
    #expect(result.state == .ready)
    #expect(result.duplicate == false)
    let info = try await broker.job(id: result.id)
    #expect(info.queue == queue)
    #expect(info.type == "diag.echo")
    #expect(info.payload == #"{"message":"oi"}"#)
    #expect(info.state == .ready)
    #expect(info.attempts == 0)
    let stats = try await broker.stats(queues: [queue])
    #expect(stats[0].ready == 1)
    #expect(stats[0].enqueued == 1)
  }

  @Test func idempotencyKeyReturnsTheFirstJobWhateverItsState() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let spec = JobSpec(type: "diag.noop", queue: queue, idempotencyKey: "order-42")
    let first = try await broker.enqueue(spec)
    let second = try await broker.enqueue(spec)
    #expect(second.id == first.id)
    #expect(second.duplicate)
    #expect(second.state == .ready)
    #expect(try await broker.stats(queues: [queue])[0].ready == 1)

    // Running, then done: the same key still answers with the first job and its state.
    let leased = try await broker.fetch(queue: queue, limit: 10, lease: .seconds(30), token: "w:1")
    #expect(leased.jobs.map(\.id) == [first.id])
    #expect(try await broker.enqueue(spec).state == .active)
    _ = try await broker.ack(queue: queue, [(first.id, "w:1")])
    let third = try await broker.enqueue(spec)
    #expect(third.id == first.id)
    #expect(third.state == .done)
    #expect(try await broker.stats(queues: [queue])[0].enqueued == 1)
  }

  @Test func idempotencyKeyExpiresWithItsWindow() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let spec = JobSpec(type: "diag.noop", queue: queue, idempotencyKey: "k", idempotencyWindow: .milliseconds(100))
    let first = try await broker.enqueue(spec)
    try await Task.sleep(for: .milliseconds(250))
    let second = try await broker.enqueue(spec)
    #expect(second.id != first.id)
    #expect(!second.duplicate)
  }

  @Test func aKeyHeldWhileAliveOutlivesItsWindowAndEndsWithItsJob() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    // A window that has long run out by the second enqueue: it is not what holds the key.
    let later = JobSpec(
      type: "diag.noop", queue: queue, when: .after(.seconds(3600)), idempotencyKey: "sender",
      idempotencyWindow: .milliseconds(1), keyHeldWhileAlive: true)
    let first = try await broker.enqueue(later)
    #expect(first.state == .scheduled && !first.duplicate)
    try await Task.sleep(for: .milliseconds(50))
    let again = try await broker.enqueue(later)
    #expect(again.id == first.id && again.duplicate && again.state == .scheduled)

    // Running: still the one job. Done: the key is free, and the next enqueue makes a new job.
    let now = JobSpec(
      type: "diag.noop", queue: queue, idempotencyKey: "now", idempotencyWindow: .milliseconds(1),
      keyHeldWhileAlive: true)
    let running = try await broker.enqueue(now)
    let leased = try await broker.fetch(queue: queue, limit: 10, lease: .seconds(30), token: "w:1")
    #expect(leased.jobs.map(\.id) == [running.id])
    try await Task.sleep(for: .milliseconds(50))
    let whileRunning = try await broker.enqueue(now)
    #expect(whileRunning.id == running.id && whileRunning.duplicate && whileRunning.state == .active)
    _ = try await broker.ack(queue: queue, [(running.id, "w:1")])
    let afterDone = try await broker.enqueue(now)
    #expect(afterDone.id != running.id && !afterDone.duplicate)

    // Cancelled ends it too.
    try await broker.cancel(id: first.id)
    let afterCancel = try await broker.enqueue(later)
    #expect(afterCancel.id != first.id && !afterCancel.duplicate)
    #expect(try await broker.stats(queues: [queue])[0].enqueued == 4)
  }

  /// A request's batch goes in by one script per queue (all of it or none), and when another
  /// queue's script fails, the error says exactly which jobs went in.
  @Test func anAtomicBatchIsOneScriptPerQueueAndAFailureSaysWhatWentIn() async throws {
    // A private Redis, so that its command counts are this test's alone.
    let (server, broker) = try await RedisServer.running()
    let client = broker.redis
    func scriptCalls() async throws -> Int {
      let info = try await client.send("INFO", "commandstats").string ?? ""
      let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_evalsha:") } ?? ""
      // cmdstat_evalsha:calls=3,usec=…,rejected_calls=0,failed_calls=0
      return Int(line.split(separator: "calls=").dropFirst().first?.prefix { $0.isNumber } ?? "0") ?? 0
    }
    let jobs = (0..<1000).map { JobSpec(type: "diag.noop", payload: #"{"n":\#($0)}"#, queue: "batch") }
    _ = try await broker.enqueue([JobSpec(type: "diag.noop", queue: "batch")])  // loads the script
    var before = try await scriptCalls()
    _ = try await broker.enqueue(jobs, atomically: true)
    let atomic = try await scriptCalls() - before
    #expect(atomic == 1, "\(atomic) script calls")
    before = try await scriptCalls()
    _ = try await broker.enqueue(jobs)
    let chunked = try await scriptCalls() - before
    #expect(chunked == 2, "\(chunked) script calls; a bulk enqueue goes in chunks of 500")

    // The other queue's ready list is not a list: its script fails, this queue's jobs went in.
    _ = try await client.send("SET", QueueKeys(queue: "broken").ready, "not a list")
    let mixed = (0..<6).map { JobSpec(type: "diag.noop", queue: $0 % 2 == 0 ? "batch" : "broken") }
    do {
      _ = try await broker.enqueue(mixed, atomically: true)
      Issue.record("a batch into a broken queue went in whole")
    } catch let incomplete as EnqueueIncomplete {
      #expect(incomplete.committed.map(\.index) == [0, 2, 4])
      #expect(incomplete.committed.allSatisfy { $0.result.state == .ready && !$0.result.id.isEmpty })
    }
    #expect(try await broker.stats(queues: ["broken"])[0].enqueued == 0)
    withExtendedLifetime(server) {}
  }

  @Test func bulkEnqueueKeepsOrderAndGivesUniqueIds() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let specs = (0..<5_000).map { JobSpec(type: "diag.echo", payload: #"{"message":"\#($0)"}"#, queue: queue) }
    let results = try await broker.enqueue(specs)
    #expect(results.count == 5_000)
    #expect(Set(results.map(\.id)).count == 5_000)
    #expect(try await broker.stats(queues: [queue])[0].ready == 5_000)
    // FIFO: the first enqueued is the first fetched.
    let fetched = try await broker.fetch(queue: queue, limit: 3, lease: .seconds(30), token: "w:1")
    #expect(fetched.jobs.map(\.id) == Array(results.prefix(3).map(\.id)))
    #expect(fetched.jobs.map(\.payload) == [#"{"message":"0"}"#, #"{"message":"1"}"#, #"{"message":"2"}"#])
  }

  /// A bulk's reply is one letter per job plus the answering job of each duplicate: every result
  /// must still land at its own position, whatever mix of states a chunk holds.
  @Test func aBulkOfMixedStatesAndDuplicatesAnswersEachJobInItsPlace() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let earlier = try await broker.enqueue(
      JobSpec(type: "diag.noop", queue: queue, when: .after(.seconds(3600)), idempotencyKey: "earlier"))
    var specs: [JobSpec] = []
    for i in 0..<1_200 {
      switch i % 4 {
      case 0: specs.append(JobSpec(type: "diag.noop", queue: queue))
      case 1: specs.append(JobSpec(type: "diag.noop", queue: queue, when: .after(.seconds(600))))
      case 2: specs.append(JobSpec(type: "diag.noop", queue: queue, idempotencyKey: "earlier"))
      default: specs.append(JobSpec(type: "diag.noop", queue: queue, idempotencyKey: "k\(i / 8)"))
      }
    }
    let results = try await broker.enqueue(specs)
    #expect(results.count == specs.count)
    var firstOfKey: [String: EnqueueResult] = [:]
    for (i, result) in results.enumerated() {
      switch i % 4 {
      case 0: #expect(result.state == .ready && !result.duplicate)
      case 1: #expect(result.state == .scheduled && !result.duplicate)
      case 2: #expect(result.id == earlier.id && result.state == .scheduled && result.duplicate)
      default:
        let key = "k\(i / 8)"
        if let first = firstOfKey[key] {
          #expect(result.id == first.id && result.duplicate && result.state == .ready)
        } else {
          #expect(!result.duplicate && result.state == .ready)
          firstOfKey[key] = result
        }
      }
      if !result.duplicate { #expect(try await broker.job(id: result.id).state == result.state) }
    }
    #expect(firstOfKey.count == 150)
    let stats = try await broker.stats(queues: [queue])[0]
    #expect(stats.enqueued == 1 + 300 + 300 + 150)
  }

  @Test func badInputIsRefusedAndChangesNothing() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    await #expect(throws: QueueError.self) {
      try await broker.enqueue(JobSpec(type: "diag.noop", queue: "bad queue{name}"))
    }
    await #expect(throws: QueueError.self) {
      try await broker.enqueue(JobSpec(type: "", queue: queue))
    }
    await #expect(throws: QueueError.self) {
      try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, maxAttempts: 0))
    }
    #expect(try await broker.stats(queues: [queue])[0].enqueued == 0)
  }

  @Test func unknownJobIdIsNotFound() async throws {
    let broker = try TestRedis.broker()
    await #expect(throws: QueueError.jobNotFound("NoSuchJob00000")) {
      try await broker.job(id: "NoSuchJob00000")
    }
  }
}
