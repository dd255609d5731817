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

  /// More tenants than a fetch takes: each fetch gives one job to each of the next tenants in the
  /// ring, in turn, and the tenants it did not reach come first in the next fetch.
  @Test func withMoreTenantsThanAFetchTakesEachTurnIsOneJobAndTurnsGoRoundTheRing() async throws {
    let broker = try TestRedis.broker()
    let queue = TestRedis.queue()
    let tenants = (0..<25).map { "t\($0)" }
    var specs: [JobSpec] = []
    for round in 0..<4 {
      for (index, tenant) in tenants.enumerated() where round < 2 || index % 5 == 0 {
        specs.append(JobSpec(type: "diag.noop", queue: queue, tenant: tenant))
      }
    }
    let ids = try await broker.enqueue(specs).map(\.id)
    let tenantOf = Dictionary(uniqueKeysWithValues: zip(ids, specs.map { $0.tenant ?? "none" }))
    var served: [[String]] = []
    var seen: [String] = []
    while true {
      let jobs = try await broker.fetch(queue: queue, limit: 10, lease: .seconds(30), token: "w:\(served.count)").jobs
      if jobs.isEmpty { break }
      served.append(jobs.map { tenantOf[$0.id] ?? "?" })
      seen += jobs.map(\.id)
    }
    #expect(seen.count == ids.count && Set(seen) == Set(ids))
    // 25 tenants with work, 10 taken a fetch: the first three fetches reach every tenant once
    // (the third takes the last 5 and goes on to the first 5 again), no tenant twice in a fetch.
    #expect(served.prefix(3).allSatisfy { Set($0).count == $0.count }, "\(served)")
    #expect(Set(served[0] + served[1] + served[2].prefix(5)) == Set(tenants), "\(served.prefix(3))")
    #expect(served[0].count == 10 && served[1].count == 10)
    // Each tenant's own jobs still come out in the order they went in.
    for tenant in tenants {
      let own = ids.filter { tenantOf[$0] == tenant }
      #expect(seen.filter { tenantOf[$0] == tenant } == own, "\(tenant)")
    }
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
