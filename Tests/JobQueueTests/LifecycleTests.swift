import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

@Suite struct LifecycleTests {
  @Test func ackFinishesOnceAndRefusesAStaleLease() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let job = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue))
    let leased = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(30), token: "w:1").jobs
    #expect(leased.map(\.id) == [job.id])
    #expect(try await broker.job(id: job.id).state == .active)
    #expect(try await broker.ack(queue: queue, [(job.id, "other:9")]) == [.leaseLost])
    #expect(try await broker.ack(queue: queue, [(job.id, "w:1")]) == [.acked])
    #expect(try await broker.ack(queue: queue, [(job.id, "w:1")]) == [.leaseLost])
    let stats = try await broker.stats(queues: [queue])[0]
    #expect(stats.processed == 1)
    #expect(stats.active == 0)
    #expect(try await broker.job(id: job.id).state == .done)
  }

  @Test func failuresRetryWithBackoffThenDeadLetterWithHistory() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let job = try await broker.enqueue(JobSpec(type: "diag.fail", queue: queue, maxAttempts: 3))
    var outcomes: [FailOutcome] = []
    for attempt in 1...3 {
      var leased: [LeasedJob] = []
      while leased.isEmpty {
        let result = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(30), token: "w:\(attempt)")
        leased = result.jobs
        if leased.isEmpty { try await Task.sleep(for: .milliseconds(max(1, result.nextDueIn ?? 5))) }
      }
      #expect(leased[0].attempts == attempt - 1)
      outcomes.append(try await broker.fail(leased[0], error: "boom \(attempt)", retryAfter: .milliseconds(30)))
      if attempt < 3 {
        let info = try await broker.job(id: job.id)
        #expect(info.state == .scheduled)
        // The retry is due after its backoff, by Redis's clock.
        let failedAt = try #require(info.history.last?.at)
        #expect(info.dueAt == failedAt + 30)
      }
    }
    #expect(outcomes == [.retrying, .retrying, .dead])
    let info = try await broker.job(id: job.id)
    #expect(info.state == .dead)
    #expect(info.attempts == 3)
    #expect(info.history.map(\.error) == ["boom 1", "boom 2", "boom 3"])
    #expect(info.history.map(\.attempt) == [1, 2, 3])
    #expect(info.history.allSatisfy { $0.kind == "failed" })
    let stats = try await broker.stats(queues: [queue])[0]
    #expect(stats.dead == 1)
    #expect(stats.failed == 3)
    #expect(stats.retried == 2)
  }

  @Test func permanentFailureSkipsRetries() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let job = try await broker.enqueue(JobSpec(type: "diag.fail", queue: queue, maxAttempts: 10))
    let leased = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(30), token: "w:1").jobs[0]
    #expect(try await broker.fail(leased, error: "bad payload", retryAfter: nil) == .dead)
    #expect(try await broker.job(id: job.id).attempts == 1)
  }

  @Test func expiredLeaseIsRecoveredWithoutChargingAnAttemptAndPoisonJobsDie() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let job = try await broker.enqueue(JobSpec(type: "diag.crash", queue: queue))
    for crash in 1...3 {
      let leased = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(60), token: "w:\(crash)").jobs
      try #require(leased.map(\.id) == [job.id], "fetch \(crash) found \(leased.map(\.id))")
      #expect(leased[0].crashes == crash - 1)
      // A live lease is not recovered.
      #expect(try await broker.recover(queue: queue, crashLimit: 3) == RecoveryResult(requeued: 0, dead: 0))
      // The worker dies: its lease runs out. Moving the deadline into the past (Redis time) stands in
      // for waiting, so a loaded machine cannot turn "still live" into "expired" mid-test.
      let now = try await broker.redisTime()
      _ = try await broker.redis.send("ZADD", QueueKeys(queue: queue).leased, String(now - 1), job.id)
      // Not an outage, however slow a loaded machine makes the steps between two sweeps.
      let result = try await broker.recover(queue: queue, crashLimit: 3, outageGap: .seconds(3600))
      #expect(result == (crash < 3 ? RecoveryResult(requeued: 1, dead: 0) : RecoveryResult(requeued: 0, dead: 1)))
    }
    let info = try await broker.job(id: job.id)
    #expect(info.state == .dead)
    #expect(info.attempts == 0)
    #expect(info.crashes == 3)
    #expect(info.history.count == 3)
    #expect(info.history.allSatisfy { $0.kind == "crashed" })
    #expect(info.history.last?.error.contains("crashed its worker 3 times") == true)
  }

  @Test func leasesThatExpiredWhileRedisWasAwayGetAGraceNotACrash() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let keys = QueueKeys(queue: queue)
    let job = try await broker.enqueue(JobSpec(type: "diag.sleep", queue: queue))
    _ = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(60), token: "w:1")
    #expect(try await broker.recover(queue: queue) == RecoveryResult(requeued: 0, dead: 0))
    // Redis was away for a minute: the last sweep is a minute old, and the lease ran out meanwhile
    // (moved in Redis time, as waiting would).
    let now = try await broker.redisTime()
    _ = try await broker.redis.send("HSET", keys.stats, "swept", String(now - 60_000))
    _ = try await broker.redis.send("ZADD", keys.leased, String(now - 1), job.id)
    #expect(try await broker.recover(queue: queue, grace: .seconds(30)) == RecoveryResult(requeued: 0, dead: 0))
    // Not a crash: the job is still its worker's, with a new deadline that worker can extend.
    let deadline = try #require(try await broker.redis.send("ZSCORE", keys.leased, job.id).string.flatMap(Double.init))
    #expect(Int64(deadline) > now + 20_000)
    #expect(try await broker.job(id: job.id).crashes == 0)
    #expect(try await broker.extendLeases(queue: queue, [(job.id, "w:1")], by: .seconds(60)).isEmpty)

    // Its worker really died: once the grace is over, the lease expires again, and now it counts.
    _ = try await broker.redis.send("ZADD", keys.leased, String(now - 1), job.id)
    // The sweep before was just now, whatever a loaded machine made of the steps between.
    #expect(
      try await broker.recover(queue: queue, outageGap: .seconds(3600)) == RecoveryResult(requeued: 1, dead: 0))
    #expect(try await broker.job(id: job.id).crashes == 1)
  }

  @Test func extendedLeaseIsNotRecovered() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let job = try await broker.enqueue(JobSpec(type: "diag.sleep", queue: queue))
    _ = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(1), token: "w:1")
    // Extended at once and then every 300 ms by 5 s: the job outlives its first 1 s lease, and a
    // slow moment on a loaded machine cannot let an extension come too late.
    #expect(try await broker.extendLeases(queue: queue, [(job.id, "w:1")], by: .seconds(5)).isEmpty)
    for _ in 0..<4 {
      try await Task.sleep(for: .milliseconds(300))
      #expect(try await broker.extendLeases(queue: queue, [(job.id, "w:1")], by: .seconds(5)).isEmpty)
    }
    #expect(try await broker.recover(queue: queue).requeued == 0)
    #expect(try await broker.job(id: job.id).state == .active)
  }

  @Test func handBackReturnsJobsAtOnceWithoutCharging() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    _ = try await broker.enqueue((0..<3).map { _ in JobSpec(type: "diag.noop", queue: queue) })
    let leased = try await broker.fetch(queue: queue, limit: 3, lease: .seconds(60), token: "w:1").jobs
    #expect(try await broker.handBack(queue: queue, leased.map { ($0.id, $0.token) }) == 3)
    let stats = try await broker.stats(queues: [queue])[0]
    #expect(stats.ready == 3)
    #expect(stats.active == 0)
    let again = try await broker.fetch(queue: queue, limit: 3, lease: .seconds(60), token: "w:2").jobs
    #expect(again.allSatisfy { $0.attempts == 0 && $0.crashes == 0 })
    // Handed-back jobs go to the front of the line, in their original order.
    #expect(Set(again.map(\.id)) == Set(leased.map(\.id)))
  }

  @Test func cancelOnlyBeforeStart() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let ready = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue))
    let later = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, when: .after(.seconds(60))))
    try await broker.cancel(id: ready.id)
    try await broker.cancel(id: later.id)
    #expect(try await broker.job(id: ready.id).state == .cancelled)
    #expect(try await broker.job(id: later.id).state == .cancelled)
    let stats = try await broker.stats(queues: [queue])[0]
    #expect(stats.ready == 0 && stats.scheduled == 0 && stats.cancelled == 2)

    let running = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue))
    _ = try await broker.fetch(queue: queue, limit: 1, lease: .seconds(30), token: "w:1")
    await #expect(throws: QueueError.notCancellable(id: running.id, state: .active)) {
      try await broker.cancel(id: running.id)
    }
  }

  @Test func pausedQueueGivesNothingUntilResumed() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    _ = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue))
    try await broker.pause(queue: queue)
    let paused = try await broker.fetch(queue: queue, limit: 5, lease: .seconds(30), token: "w:1")
    #expect(paused.paused)
    #expect(paused.jobs.isEmpty)
    #expect(try await broker.stats(queues: [queue])[0].paused)
    try await broker.resume(queue: queue)
    #expect(try await broker.fetch(queue: queue, limit: 5, lease: .seconds(30), token: "w:2").jobs.count == 1)
  }

  @Test func finishedJobsAreTrimmedByCount() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let ids = try await broker.enqueue((0..<50).map { _ in JobSpec(type: "diag.noop", queue: queue) }).map(\.id)
    let leased = try await broker.fetch(queue: queue, limit: 50, lease: .seconds(30), token: "w:1").jobs
    let outcomes = try await broker.ack(
      queue: queue, leased.map { ($0.id, $0.token) }, retention: Retention(age: .seconds(3600), count: 10))
    #expect(outcomes.allSatisfy { $0 == .acked })
    let redis = broker.redis
    let keys = QueueKeys(queue: queue)
    #expect(try await redis.send("ZCARD", keys.finished).int == 10)
    let existing = try await redis.pipeline(ids.map { RedisCommand("EXISTS", keys.job($0)) }).filter { $0.int == 1 }
    #expect(existing.count == 10)
  }

  @Test func corruptJobRecordsComeBackFlaggedAndAreDeadLettered() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let keys = QueueKeys(queue: queue)
    let jobs = try await broker.enqueue((0..<3).map { _ in JobSpec(type: "diag.noop", queue: queue) })
    try await broker.redis.send("DEL", keys.job(jobs[0].id))
    try await broker.redis.send("SET", keys.job(jobs[0].id), "garbage")
    try await broker.redis.send("HDEL", keys.job(jobs[1].id), "t")
    let leased = try await broker.fetch(queue: queue, limit: 3, lease: .seconds(30), token: "w:1").jobs
    #expect(leased.count == 3)
    let byId = Dictionary(uniqueKeysWithValues: leased.map { ($0.id, $0) })
    #expect(byId[jobs[0].id]?.corruption?.contains("not a hash") == true)
    #expect(byId[jobs[1].id]?.corruption?.contains("lacks its type") == true)
    #expect(byId[jobs[2].id]?.corruption == nil)
    for id in [jobs[0].id, jobs[1].id] {
      let job = try #require(byId[id])
      #expect(try await broker.fail(job, error: "unrunnable: \(job.corruption ?? "")", retryAfter: nil) == .dead)
    }
    #expect(try await broker.stats(queues: [queue])[0].dead == 2)
    #expect(try await broker.job(id: jobs[0].id).history.first?.error.contains("not a hash") == true)
  }
}
