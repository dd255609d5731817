import JobQueue
import TestSupport
import Testing

/// Single enqueues sent together share scripts; each caller must still get its own answer.
@Suite struct GroupCommitTests {
  @Test func concurrentCallersEachGetTheirOwnJobAndKeysStillDeduplicate() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let singles = GroupCommit(broker: broker)
    let results = try await withThrowingTaskGroup(of: (Int, EnqueueResult).self) { group in
      for i in 0..<300 {
        group.addTask {
          var spec = JobSpec(type: "diag.noop", queue: queue, tenant: "t\(i % 7)")
          if i % 3 == 1 { spec.when = .after(.seconds(3600)) }
          if i % 10 == 0 { spec.idempotencyKey = "shared-\(i % 20)" }
          return (i, try await singles.enqueue(spec))
        }
      }
      var results: [Int: EnqueueResult] = [:]
      for try await (i, result) in group { results[i] = result }
      return results
    }
    #expect(results.count == 300)
    let keyed = results.filter { $0.key % 10 == 0 }
    let unkeyed = results.filter { $0.key % 10 != 0 }
    // Unkeyed jobs are all new and in the state their delay says.
    #expect(Set(unkeyed.values.map(\.id)).count == unkeyed.count)
    for (i, result) in unkeyed {
      #expect(!result.duplicate && result.state == (i % 3 == 1 ? .scheduled : .ready), "\(i)")
      #expect(try await broker.job(id: result.id).state == result.state)
    }
    // Two keys among 30 keyed jobs: one job each, every other caller told it is a duplicate of it.
    for key in 0..<2 {
      let same = keyed.filter { ($0.key % 20) / 10 == key }.map(\.value)
      #expect(Set(same.map(\.id)).count == 1, "\(same)")
      #expect(same.filter { !$0.duplicate }.count == 1)
    }
    let stats = try await broker.stats(queues: [queue])[0]
    #expect(stats.enqueued == unkeyed.count + 2)
  }

  @Test func oneTenantsFullCapRefusesOnlyThatTenantsJobs() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let singles = GroupCommit(broker: broker)
    func later(_ tenant: String) -> JobSpec {
      JobSpec(type: "diag.noop", queue: queue, when: .after(.seconds(3600)), tenant: tenant, scheduledCap: 2)
    }
    _ = try await broker.enqueue([later("full"), later("full")])
    let outcomes = await withTaskGroup(of: (String, String).self) { group in
      for i in 0..<40 {
        let tenant = i % 4 == 0 ? "full" : "room-\(i)"
        group.addTask {
          do {
            _ = try await singles.enqueue(later(tenant))
            return (tenant, "enqueued")
          } catch {
            guard case QueueError.scheduledCapReached = error else { return (tenant, "\(error)") }
            return (tenant, "capped")
          }
        }
      }
      var outcomes: [(String, String)] = []
      for await outcome in group { outcomes.append(outcome) }
      return outcomes
    }
    #expect(outcomes.count == 40)
    #expect(outcomes.filter { $0.0 == "full" }.allSatisfy { $0.1 == "capped" }, "\(outcomes)")
    #expect(outcomes.filter { $0.0 != "full" }.allSatisfy { $0.1 == "enqueued" }, "\(outcomes)")
    #expect(try await broker.stats(queues: [queue])[0].enqueued == 2 + 30)
  }
}
