import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

@Suite struct FairnessTests {
  @Test func aSmallTenantIsServedInTheFirstFetchBehindAHugeBacklog() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    _ = try await broker.enqueue((0..<50_000).map { _ in JobSpec(type: "diag.noop", queue: queue, tenant: "A") })
    let small = try await broker.enqueue((0..<10).map { _ in JobSpec(type: "diag.noop", queue: queue, tenant: "B") })
    let fetched = try await broker.fetch(queue: queue, limit: 64, lease: .seconds(30), token: "w:1").jobs
    #expect(fetched.count == 64, "work-conserving: the batch is full")
    #expect(Set(small.map(\.id)).isSubset(of: Set(fetched.map(\.id))), "all of B's jobs in the first batch")
    #expect(try await broker.stats(queues: [queue])[0].ready == 50_010 - 64)
  }

  @Test func tenantsTakeTurnsAndEveryJobIsServedOnce() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    var specs: [JobSpec] = []
    for tenant in ["a", "b", "c"] {
      specs += (0..<30).map { _ in JobSpec(type: "diag.noop", queue: queue, tenant: tenant) }
    }
    specs += (0..<5).map { _ in JobSpec(type: "diag.noop", queue: queue) }
    let ids = try await broker.enqueue(specs).map(\.id)
    let tenantOf = Dictionary(uniqueKeysWithValues: zip(ids, specs.map { $0.tenant ?? "none" }))
    var seen: [String] = []
    var batch = 0
    while true {
      let jobs = try await broker.fetch(queue: queue, limit: 9, lease: .seconds(30), token: "w:\(batch)").jobs
      if jobs.isEmpty { break }
      if batch == 0 {
        // Four lanes (a, b, c and the tenant-less one): a batch of 9 gives each lane at least 2.
        let perLane = Dictionary(grouping: jobs, by: { tenantOf[$0.id] ?? "?" }).mapValues(\.count)
        #expect(perLane.count == 4 && perLane.values.allSatisfy { $0 >= 2 }, "\(perLane)")
      }
      seen += jobs.map(\.id)
      batch += 1
    }
    #expect(seen.count == ids.count)
    #expect(Set(seen) == Set(ids))
  }
}

extension FairnessTests {
  @Test func weightedTenantsGetSharesInProportion() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    try await broker.setTenantWeight(queue: queue, tenant: "gold", weight: 3)
    var specs = (0..<100).map { _ in JobSpec(type: "diag.noop", queue: queue, tenant: "gold") }
    specs += (0..<100).map { _ in JobSpec(type: "diag.noop", queue: queue, tenant: "free") }
    let ids = try await broker.enqueue(specs).map(\.id)
    let tenantOf = Dictionary(uniqueKeysWithValues: zip(ids, specs.map { $0.tenant ?? "" }))
    let batch = try await broker.fetch(queue: queue, limit: 40, lease: .seconds(30), token: "w:1").jobs
    let perTenant = Dictionary(grouping: batch, by: { tenantOf[$0.id] ?? "?" }).mapValues(\.count)
    #expect(batch.count == 40)
    #expect(perTenant["gold"] == 30 && perTenant["free"] == 10, "\(perTenant)")
  }
}
