import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

/// A queue with a durability setting answers an enqueue only once a replica holds it, and says so
/// when none confirmed in time; a queue without one is not slowed by a replica that is away.
@Suite struct DurabilityTests {
  @Test func anEnqueueWaitsForTheReplicaAndSaysWhenItDidNotConfirm() async throws {
    let group = try await SentinelGroup.start()
    defer { group.stop() }
    let master = group.client(port: group.masterPort)
    defer { master.close() }
    let durable = "durable-\(UInt32.random(in: 0...UInt32.max))"
    let plain = "plain-\(UInt32.random(in: 0...UInt32.max))"
    // Four seconds for the replica's confirmation: on a loaded machine a healthy replica took more
    // than 300 ms. The stopped replica below costs the whole four, well inside the client's own
    // 10 s command timeout (at 10 s the two raced and the client gave up first).
    let broker = Broker(
      redis: master, durability: [durable: Durability(replicas: 1, timeout: .seconds(4))])

    let first = try await broker.enqueue(JobSpec(type: "diag.noop", queue: durable, maxAttempts: 1))
    // Answered after WAIT: the replica holds the job already.
    let replica = Broker(redis: group.client(port: group.replicaPort))
    #expect(try await replica.job(id: first.id).state == .ready)
    #expect(try await broker.replicate(queue: durable) == 1)
    #expect(try await broker.replicate(queue: plain) == nil, "no durability, no WAIT")

    // The replica stops answering: the durable queue's enqueue is on the master, and says it is
    // not replicated; the plain queue's is answered as always.
    group.replica.signal(SIGSTOP)
    defer { group.replica.signal(SIGCONT) }
    do {
      _ = try await broker.enqueue(
        JobSpec(
          type: "diag.noop", queue: durable, maxAttempts: 1, idempotencyKey: "k1", idempotencyWindow: .seconds(60)))
      Issue.record("an unreplicated enqueue was answered as done")
    } catch let error as NotReplicated {
      #expect(error.queue == durable && error.replicas == 0 && error.wanted == 1)
    }
    _ = try await broker.enqueue(JobSpec(type: "diag.noop", queue: plain, maxAttempts: 1))
    #expect(try await broker.stats(queues: [durable])[0].ready == 2, "the write is on the master")

    // Back: a retry with the same key is the same job, now confirmed.
    group.replica.signal(SIGCONT)
    let retried = try await broker.enqueue(
      JobSpec(type: "diag.noop", queue: durable, maxAttempts: 1, idempotencyKey: "k1", idempotencyWindow: .seconds(60)))
    #expect(retried.duplicate)
    #expect(try await replica.job(id: retried.id).state == .ready)
  }
}
