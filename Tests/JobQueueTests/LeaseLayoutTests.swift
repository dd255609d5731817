import JobQueue
import RedisClient
import TestSupport
import Testing

@Suite struct LeaseLayoutTests {
  /// A fetch writes its batch's leases to the queue's leases hash and leaves the jobs' records as
  /// they were; the ack ends the leases in that hash and writes no record either: a done job is
  /// one in the finished set, its start time in the starts hash.
  @Test func leasesLiveInTheLeasesHashAndTheAckWritesTheRecordOnce() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let keys = QueueKeys(queue: queue)
    var ids: [String] = []
    for _ in 0..<3 { ids.append(try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue)).id) }
    let fetched = try await broker.fetch(queue: queue, limit: 3, lease: .seconds(30), token: "w:1")
    #expect(Set(fetched.jobs.map(\.id)) == Set(ids))
    let leasedAt = try #require(fetched.jobs.first?.leasedAt)
    // Besides the leases, the hash holds the one long field that keeps it a hashtable.
    #expect(try await broker.redis.send("OBJECT", "ENCODING", keys.leases).string == "hashtable")

    for id in ids {
      #expect(try await broker.redis.send("HGET", keys.leases, id).string == "w:1@\(leasedAt)")
      // The record is not written at fetch: it still says ready, and reads as running.
      #expect(try await broker.redis.send("HGET", keys.job(id), "s").string == "ready")
      #expect(try await broker.redis.send("HEXISTS", keys.job(id), "l").int == 0)
      let info = try await broker.job(id: id)
      #expect(info.state == .active && info.startedAt == leasedAt)
    }
    let running = try await broker.runningJobs(queue: queue)
    #expect(Set(running.map(\.id)) == Set(ids))
    #expect(running.allSatisfy { $0.token == "w:1" && $0.worker == "w" && $0.startedAt == leasedAt })

    // A token that is a prefix of the lease's is not the lease's.
    #expect(try await broker.ack(queue: queue, [(ids[0], "w:")]) == [.leaseLost])
    // The same job twice in one call is acked once.
    let outcomes = try await broker.ack(queue: queue, [(ids[0], "w:1"), (ids[0], "w:1"), (ids[1], "w:1")])
    #expect(outcomes == [.acked, .leaseLost, .acked])
    #expect(try await broker.stats(queues: [queue])[0].processed == 2)
    for id in ids[0...1] {
      let info = try await broker.job(id: id)
      #expect(info.state == .done && info.startedAt == leasedAt && (info.finishedAt ?? 0) >= leasedAt)
      // Nothing was written to the record: being in the finished set is what makes it done.
      #expect(try await broker.redis.send("HGET", keys.job(id), "s").string == "ready")
      #expect(try await broker.redis.send("HEXISTS", keys.job(id), "sa").int == 0)
      #expect(try await broker.redis.send("HGET", keys.starts, id).string == String(leasedAt))
    }
    #expect(try await leaseHolders(broker, keys) == [ids[2]])
    // A done job is not cancellable, and says why.
    await #expect {
      try await broker.cancel(id: ids[0])
    } throws: { error in
      guard case QueueError.notCancellable(_, let state) = error else { return false }
      return state == .done
    }
    // A second ack of a finished run finds no lease.
    #expect(try await broker.ack(queue: queue, [(ids[1], "w:1")]) == [.leaseLost])

    // Failing ends the lease too, and the dead job keeps when its last run started.
    let job = try #require(fetched.jobs.first { $0.id == ids[2] })
    #expect(try await broker.fail(job, error: "boom", retryAfter: nil) == .dead)
    #expect(try await leaseHolders(broker, keys).isEmpty)
    let dead = try await broker.job(id: ids[2])
    #expect(dead.state == .dead && dead.startedAt == leasedAt)
  }

  /// The upgrade path: a job that a worker of the previous version leased (its token and 'active'
  /// in the record, nothing in the leases hash) is listed as running, cannot be cancelled as if it
  /// waited, and once its lease expires, recovery puts it back and a new worker finishes it.
  @Test func aJobLeasedByThePreviousVersionIsRecoveredAndFinished() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let keys = QueueKeys(queue: queue)
    let id = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue)).id
    // What the previous version's fetch left: the id off the ready list, the record marked active
    // with its token, and the lease deadline in the leased set.
    let now = try await broker.redisTime()
    #expect(try await broker.redis.send("LREM", keys.ready, "1", id).int == 1)
    _ = try await broker.redis.send("HSET", keys.job(id), "s", "active", "l", "old:7", "sa", String(now))
    _ = try await broker.redis.send("ZADD", keys.leased, String(now + 60_000), id)

    let running = try await broker.runningJobs(queue: queue)
    #expect(running.map(\.id) == [id] && running[0].token == "old:7" && running[0].startedAt == now)
    #expect(try await broker.job(id: id).state == .active)
    await #expect(throws: QueueError.self) { try await broker.cancel(id: id) }

    // Its worker is gone: the lease runs out and recovery requeues it as a crash.
    _ = try await broker.redis.send("ZADD", keys.leased, String(now - 1), id)
    #expect(try await broker.recover(queue: queue) == RecoveryResult(requeued: 1, dead: 0))
    #expect(try await broker.redis.send("HEXISTS", keys.job(id), "l").int == 0)
    let requeued = try await broker.job(id: id)
    #expect(requeued.state == .ready && requeued.crashes == 1)

    let again = try await broker.fetch(queue: queue, limit: 10, lease: .seconds(30), token: "new:1")
    #expect(again.jobs.map(\.id) == [id])
    #expect(try await broker.ack(queue: queue, [(id, "new:1")]) == [.acked])
    let done = try await broker.job(id: id)
    #expect(done.state == .done && done.startedAt == again.jobs[0].leasedAt)
  }

  /// Retention trims a done job's start time with its record.
  @Test func retentionTrimsTheStartTimesWithTheJobs() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let keys = QueueKeys(queue: queue)
    let first = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue)).id
    let second = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue)).id
    let jobs = try await broker.fetch(queue: queue, limit: 2, lease: .seconds(30), token: "w:4").jobs
    #expect(Set(jobs.map(\.id)) == [first, second])
    #expect(try await broker.ack(queue: queue, [(first, "w:4")]) == [.acked])
    #expect(try await broker.redis.send("HEXISTS", keys.starts, first).int == 1)
    // Keep one finished job: the second ack's trim drops the first, its record and its start.
    #expect(try await broker.ack(queue: queue, [(second, "w:4")], retention: Retention(count: 1)) == [.acked])
    #expect(try await broker.redis.send("EXISTS", keys.job(first)).int == 0)
    #expect(try await broker.redis.send("HEXISTS", keys.starts, first).int == 0)
    #expect(try await broker.redis.send("HEXISTS", keys.starts, second).int == 1)
    #expect(try await broker.job(id: second).state == .done)
  }

  /// Every way a run ends removes its lease, so no id stays in the leases hash after its run.
  @Test func everyEndOfARunEndsItsLease() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let keys = QueueKeys(queue: queue)
    for _ in 0..<5 { _ = try await broker.enqueue(JobSpec(type: "diag.noop", queue: queue, maxAttempts: 3)) }
    let jobs = try await broker.fetch(queue: queue, limit: 5, lease: .seconds(30), token: "w:2").jobs
    #expect(jobs.count == 5)
    #expect(try await leaseHolders(broker, keys) == Set(jobs.map(\.id)))

    #expect(try await broker.fail(jobs[0], error: "again", retryAfter: .seconds(60)) == .retrying)
    #expect(
      try await broker.snooze(queue: queue, [SnoozeRequest(id: jobs[1].id, token: "w:2", delay: .seconds(60))]) == [
        true
      ])
    let now = try await broker.redisTime()
    #expect(try await broker.defer(jobs[2], until: now + 60_000, tokensReserved: false))
    #expect(try await broker.handBack(queue: queue, [(jobs[3].id, "w:2")]) == 1)
    #expect(try await broker.cancelRunning(queue: queue, id: jobs[4].id, token: "w:2", by: "test"))
    #expect(try await leaseHolders(broker, keys).isEmpty)
    #expect(try await broker.redis.send("ZCARD", keys.leased).int == 0)

    let states = try await jobs.asyncMap { try await broker.job(id: $0.id).state }
    #expect(states == [.scheduled, .scheduled, .scheduled, .ready, .cancelled])
    // The handed-back job runs again under a new lease; the old token no longer extends anything.
    let next = try await broker.fetch(queue: queue, limit: 5, lease: .seconds(30), token: "w:3").jobs
    #expect(next.map(\.id) == [jobs[3].id])
    #expect(try await broker.extendLeases(queue: queue, [(jobs[3].id, "w:2")], by: .seconds(30)) == [jobs[3].id])
    #expect(try await broker.extendLeases(queue: queue, [(jobs[3].id, "w:3")], by: .seconds(30)).isEmpty)
  }
}

/// The job ids holding a lease in `keys.leases` (every field but the `#` that keeps it a hashtable).
private func leaseHolders(_ broker: Broker, _ keys: QueueKeys) async throws -> Set<String> {
  let fields = try await broker.redis.send("HKEYS", keys.leases).array?.compactMap(\.string) ?? []
  return Set(fields.filter { $0 != "#" })
}

extension Array {
  fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
    var out: [T] = []
    for element in self { out.append(try await transform(element)) }
    return out
  }
}
