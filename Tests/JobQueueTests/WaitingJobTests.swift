import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

/// What the dashboard's scheduled, retries and busy pages act on: reading the waiting set by kind
/// and filter, running waiting jobs now, cancelling them, cancelling a run, and pausing a schedule.
@Suite struct WaitingJobTests {
  /// Fails one attempt of `id` so it waits for its next attempt an hour ahead.
  func failOnce(_ broker: Broker, queue: String, error: String) async throws -> LeasedJob {
    let leased = try #require(
      try await broker.fetch(queue: queue, limit: 1, lease: .seconds(30), token: "w:\(error)").jobs.first)
    #expect(try await broker.fail(leased, error: error, retryAfter: .seconds(3600)) == .retrying)
    return leased
  }

  @Test func scheduledAndRetriesAreReadApartAndFiltered() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let hour = JobSpec.When.after(.seconds(3600))
    let a = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, when: hour, tenant: "acme"))
    let b = try await broker.enqueue(JobSpec(type: "diag.echo", queue: queue, when: hour, tenant: "zeta"))
    let failing = try await broker.enqueue(JobSpec(type: "diag.fail", queue: queue, tenant: "acme"))
    _ = try await failOnce(broker, queue: queue, error: "WAHA answered 503 Service Unavailable")
    let other = try await broker.enqueue(JobSpec(type: "diag.fail", queue: queue))
    _ = try await failOnce(broker, queue: queue, error: "timeout")

    let scheduled = try await broker.waitingJobs(queue: queue, kind: .scheduled)
    #expect(Set(scheduled.map(\.id)) == [a.id, b.id])
    #expect(scheduled.allSatisfy { $0.attempts == 0 && $0.lastError == nil })
    let retries = try await broker.waitingJobs(queue: queue, kind: .retries)
    #expect(Set(retries.map(\.id)) == [failing.id, other.id])
    #expect(retries.first { $0.id == failing.id }?.lastError == "WAHA answered 503 Service Unavailable")
    #expect(retries.allSatisfy { $0.attempts == 1 })
    // Both kinds at once, in one scan.
    #expect(Set(try await broker.waitingJobs(queue: queue, kind: nil).map(\.id)) == [a.id, b.id, failing.id, other.id])

    #expect(
      try await broker.waitingJobs(queue: queue, kind: .scheduled, filter: JobFilter(tenant: "acme")).map(\.id) == [
        a.id
      ])
    #expect(
      try await broker.waitingJobs(queue: queue, kind: .scheduled, filter: JobFilter(type: "diag.echo")).map(\.id) == [
        b.id
      ])
    #expect(
      try await broker.waitingJobs(queue: queue, kind: .retries, filter: JobFilter(errorContains: "503 SERVICE")).map(
        \.id)
        == [failing.id])
    // Small windows still see every job, in due order.
    #expect(try await broker.waitingJobs(queue: queue, kind: .retries, window: 1).count == 2)
    #expect(try await broker.waitingJobs(queue: queue, kind: .scheduled, limit: 1).count == 1)
  }

  @Test func runNowMakesWaitingJobsReadyOnceAndFreesTheirCap() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let later = JobSpec(type: "diag.noop", queue: queue, when: .after(.seconds(3600)), tenant: "acme", scheduledCap: 1)
    let held = try await broker.enqueue(later)
    // The cap of one is full until the held job stops waiting.
    await #expect(throws: QueueError.self) { try await broker.enqueue(later) }

    #expect(try await broker.runNow(queue: queue, ids: [held.id, "00000000000000000000000000"]) == 1)
    #expect(try await broker.runNow(queue: queue, ids: [held.id]) == 0)
    #expect(try await broker.job(id: held.id).state == .ready)
    let fetched = try await broker.fetch(queue: queue, limit: 10, lease: .seconds(30), token: "w:1").jobs
    #expect(fetched.map(\.id) == [held.id])
    // It no longer counts under the cap.
    #expect(try await broker.enqueue(later).state == .scheduled)
  }

  @Test func cancelWaitingCancelsOnlyWhatStillWaits() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let waiting = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, when: .after(.seconds(3600))))
    let ready = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue))
    #expect(try await broker.cancelWaiting(queue: queue, ids: [waiting.id, ready.id]) == 1)
    #expect(try await broker.cancelWaiting(queue: queue, ids: [waiting.id]) == 0)
    #expect(try await broker.job(id: waiting.id).state == .cancelled)
    #expect(try await broker.job(id: ready.id).state == .ready)
    #expect(try await broker.waitingJobs(queue: queue, kind: .scheduled).isEmpty)
    #expect(try await broker.stats(queues: [queue])[0].scheduled == 0)
  }

  @Test func cancellingARunStopsItAtTheNextExtensionAndItsAckChangesNothing() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let job = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue))
    _ = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(30), token: "w1:1")
    #expect(try await broker.cancelRunning(queue: queue, id: job.id, token: "w2:1", by: "ops") == false)
    #expect(try await broker.cancelRunning(queue: queue, id: job.id, token: "w1:1", by: "ops"))
    #expect(try await broker.extendLeases(queue: queue, [(job.id, "w1:1")], by: .seconds(30)) == [job.id])
    #expect(try await broker.ack(queue: queue, [(job.id, "w1:1")]) == [.leaseLost])
    let info = try await broker.job(id: job.id)
    #expect(info.state == .cancelled)
    #expect(info.history.last?.kind == "cancelled")
    #expect(info.history.last?.error.contains("ops") == true)
    let stats = try await broker.stats(queues: [queue])[0]
    #expect(stats.active == 0)
    #expect(stats.processed == 0)
  }

  @Test func aPausedScheduleLetsItsSlotsPassWithNoJob() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let now = try await broker.redisTime()
    let job = JobSpec(type: "diag.noop", queue: queue)
    _ = try await broker.cronStart(name: "nightly", queue: queue, now: now - 10_000)
    try await broker.pauseCron(name: "nightly", queue: queue, by: "ops key")
    let paused = try await broker.fireCron(name: "nightly", slot: now - 5_000, mode: .fire, lead: .seconds(1), job: job)
    #expect(paused == .paused)
    var state = try await broker.cronState(name: "nightly", queue: queue)
    #expect(state.pausedBy == "ops key")
    #expect(state.pausedSlots == 1)
    #expect(state.fired == 0)
    #expect(state.lastSlot == now - 5_000)
    #expect(try await broker.stats(queues: [queue])[0].ready == 0)

    try await broker.resumeCron(name: "nightly", queue: queue)
    let fired = try await broker.fireCron(name: "nightly", slot: now - 1_000, mode: .fire, lead: .seconds(1), job: job)
    guard case .fired(let id) = fired else {
      Issue.record("expected the resumed schedule to fire, got \(fired)")
      return
    }
    state = try await broker.cronState(name: "nightly", queue: queue)
    #expect(state.pausedBy == nil)
    #expect(state.fired == 1)
    #expect(try await broker.job(id: id).state == .ready)
  }
}
