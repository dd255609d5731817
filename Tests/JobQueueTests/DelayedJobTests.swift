import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

@Suite struct DelayedJobTests {
  @Test func delayedJobIsNotFetchedBeforeItsDueTime() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let job = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, when: .after(.milliseconds(400))))
    #expect(job.state == .scheduled)
    let info = try await broker.job(id: job.id)
    let due = try #require(info.dueAt)
    #expect(due == (info.enqueuedAt ?? 0) + 400)

    // Before the due time (by Redis's clock): nothing, and the fetch says how long to wait.
    var leased: [LeasedJob] = []
    while leased.isEmpty {
      let result = try await broker.fetch(queue: queue, limit: 10, lease: .seconds(30), token: "w:1")
      if result.jobs.isEmpty {
        let wait = try #require(result.nextDueIn)
        #expect(wait <= 400)
        try await Task.sleep(for: .milliseconds(max(1, wait)))
      }
      leased = result.jobs
    }
    #expect(leased.count == 1)
    #expect(leased[0].leasedAt >= due)
  }

  @Test func jobAtAnAbsoluteTimeInThePastRunsNow() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let job = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, when: .at(epochMilliseconds: 1_000)))
    #expect(job.state == .ready)
  }

  @Test func dueJobsJumpAheadOfTheBacklog() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let delayed = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, when: .after(.milliseconds(50))))
    _ = try await broker.enqueue((0..<200).map { _ in JobSpec(type: "diag.noop", queue: queue) })
    try await Task.sleep(for: .milliseconds(120))
    let result = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(30), token: "w:1")
    #expect(result.jobs.map(\.id) == [delayed.id])
  }
}
