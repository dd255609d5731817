import JobQueue
import TestSupport
import Testing

@Suite struct SnoozeTests {
  /// Several jobs' snoozes share one call (a worker settles them as it settles acks): each lands
  /// whole, a stale lease's is refused without touching its job, and a snooze cannot land twice.
  @Test func snoozesShareACallAndRefuseAStaleLease() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    var ids: Set<String> = []
    for _ in 0..<3 { ids.insert(try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue)).id) }
    let leased = try await broker.fetch(queue: queue, limit: 3, lease: .seconds(30), token: "w:1").jobs
    #expect(Set(leased.map(\.id)) == ids)

    let before = try await broker.redisTime()
    let results = try await broker.snooze(
      queue: queue,
      [
        SnoozeRequest(id: leased[0].id, token: "w:1", delay: .seconds(60)),
        SnoozeRequest(id: leased[1].id, token: "other:9", delay: .seconds(60)),
        SnoozeRequest(id: leased[2].id, token: "w:1", delay: .zero),
      ])
    let after = try await broker.redisTime()
    #expect(results == [true, false, true])

    let later = try await broker.job(id: leased[0].id)
    #expect(later.state == .scheduled)
    let due = try #require(later.dueAt)
    #expect(due >= before + 60_000 && due <= after + 60_000)
    // The refused one is still this worker's run, leased as it was.
    #expect(try await broker.job(id: leased[1].id).state == .active)

    // Due at once, the third comes back as the same job with a fresh attempt budget; the first
    // waits for its minute and the second is still leased.
    var again: [LeasedJob] = []
    for _ in 0..<200 where again.isEmpty {
      let result = try await broker.fetch(queue: queue, limit: 3, lease: .seconds(30), token: "w:2")
      again = result.jobs
      if again.isEmpty { try await Task.sleep(for: .milliseconds(max(1, min(result.nextDueIn ?? 5, 50)))) }
    }
    #expect(again.map(\.id) == [leased[2].id])
    #expect(again.first?.attempts == 0)

    // A snooze already landed cleared its lease token, so repeating it (a retried call) changes nothing.
    #expect(
      try await broker.snooze(queue: queue, [SnoozeRequest(id: leased[0].id, token: "w:1", delay: .zero)]) == [false])
    #expect(try await broker.job(id: leased[0].id).dueAt == due)
  }
}
