import Synchronization
import Testing
import Worker

/// The worker's plan limits: one read per tenant however many jobs miss at once, a failed read not
/// remembered, and each tenant read on its own.
@Suite struct PlanLimitsCacheTests {
  /// Counts reads per tenant; a read waits until the test opens the gate, so every caller arrives
  /// while the first read is still in flight.
  final class Source: Sendable {
    let reads = Mutex<[String: Int]>([:])
    let failing = Mutex<Set<String>>([])
    let gate = Mutex<[CheckedContinuation<Void, Never>]?>([])

    func read(_ tenant: String) async throws -> PlanLimitsCache.Limits {
      let count = reads.withLock { reads -> Int in
        reads[tenant, default: 0] += 1
        return reads[tenant]!
      }
      await withCheckedContinuation { continuation in
        let waiting = gate.withLock { gate -> Bool in
          guard gate != nil else { return false }
          gate!.append(continuation)
          return true
        }
        if !waiting { continuation.resume() }
      }
      if failing.withLock({ $0.contains(tenant) }) { throw Failure() }
      return ["monthly_credits": Double(count), "min_send_gap_ms": nil]
    }

    func open() {
      gate.withLock { gate in
        gate?.forEach { $0.resume() }
        gate = nil
      }
    }

    func readCount(_ tenant: String) -> Int { reads.withLock { $0[tenant, default: 0] } }
  }

  struct Failure: Error {}

  @Test func jobsThatMissTogetherShareOneRead() async throws {
    let source = Source()
    let cache = PlanLimitsCache(lifetime: .seconds(3600)) { try await source.read($0) }
    let answers = try await withThrowingTaskGroup(of: PlanLimitsCache.Limits.self) { group in
      for index in 0..<200 {
        group.addTask { try await cache.limits(tenant: index % 2 == 0 ? "acme" : "bolt") }
      }
      // Every caller gets to ask while the reads are held.
      for _ in 0..<50 { await Task.yield() }
      try await Task.sleep(for: .milliseconds(50))
      source.open()
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(answers.count == 200)
    #expect(source.readCount("acme") == 1)
    #expect(source.readCount("bolt") == 1)
    #expect(answers.allSatisfy { $0["monthly_credits"] == .some(1) && $0["min_send_gap_ms"] == .some(nil) })
    // Within its lifetime a tenant is not read again.
    _ = try await cache.limits(tenant: "acme")
    #expect(source.readCount("acme") == 1)
  }

  @Test func aFailedReadIsNotRememberedAndExpiredLimitsAreReadAgain() async throws {
    let source = Source()
    source.open()
    source.failing.withLock { _ = $0.insert("acme") }
    let cache = PlanLimitsCache(lifetime: .milliseconds(20)) { try await source.read($0) }
    await #expect(throws: Failure.self) { try await cache.limits(tenant: "acme") }
    await #expect(throws: Failure.self) { try await cache.limits(tenant: "acme") }
    #expect(source.readCount("acme") == 2)

    source.failing.withLock { $0.removeAll() }
    #expect(try await cache.limits(tenant: "acme")["monthly_credits"] == .some(3))
    // Past its lifetime (however long this machine takes), the next take reads the plan again.
    try await Task.sleep(for: .milliseconds(40))
    #expect(try await cache.limits(tenant: "acme")["monthly_credits"] == .some(4))
    #expect(source.readCount("acme") == 4)
  }

  @Test func noLifetimeReadsEveryTime() async throws {
    let source = Source()
    source.open()
    let cache = PlanLimitsCache(lifetime: .zero) { try await source.read($0) }
    for _ in 0..<3 { _ = try await cache.limits(tenant: "acme") }
    #expect(source.readCount("acme") == 3)
  }
}
