import Foundation
import JobQueue
import TestSupport
import Testing

@testable import Worker

/// A lost lease fences the run that held it and no other. Seen in CI under load: a job timed out,
/// failed, came back after its 50 ms backoff and was fetched again by the same worker while a lease
/// extension naming the first run was in flight; the extension reported the job lost, and the new
/// run (under a new lease) was cancelled and later counted as a crash.
@Suite struct HeldJobsTests {
  @Test func aLostLeaseStopsTheRunThatHeldItNotALaterRunOfTheSameJob() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let id = try await broker.enqueue(JobSpec(type: "test.held", queue: queue, maxAttempts: 3)).id
    let held = HeldJobs()
    let first = try #require(
      try await broker.fetch(queue: queue, limit: 1, lease: .seconds(60), token: "held:1").jobs.first)
    held.hold(first, timeout: .seconds(60))
    let extending = try #require(held.byQueue()[queue])  // the keeper's snapshot, taken now

    // The first run fails; the job comes straight back and this worker fetches it again.
    #expect(try await broker.fail(first, error: "timed out", retryAfter: .zero) != .dead)
    var second: LeasedJob?
    try await eventually("the job to be fetched again") {
      second = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(60), token: "held:2").jobs.first
      return second != nil
    }
    let rerun = try #require(second)
    #expect(rerun.id == id && rerun.token != first.token)
    held.hold(rerun, timeout: .seconds(60))

    // The extension from the snapshot finds the first lease gone: Redis reports the job lost.
    let lost = try await broker.extendLeases(queue: queue, extending, by: .seconds(60))
    #expect(lost == [id])
    // The keeper fences the run it extended, which is no longer held; the new run goes on.
    held.loseLeases(lost.map { (id: $0, token: first.token) })
    #expect(!held.leaseLost(id, token: rerun.token))
    // Had the new run's own lease been lost, it would be fenced.
    held.loseLeases([(id: id, token: rerun.token)])
    #expect(held.leaseLost(id, token: rerun.token))
  }
}
