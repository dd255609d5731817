import Foundation
import JobQueue
import RedisClient
import TestSupport
import Testing

extension WorkerProcessTests {
  /// A limit declared from the tenant's plan ("at least min_send_gap_ms between two sends") holds,
  /// and a plan change made by an operator applies from the next token taken.
  @Suite struct PlanLimitTests {
    @Test func aPlanBasedLimitHoldsAndFollowsAPlanChange() async throws {
      try await TestDatabase.migrate()
      let plan = TestDatabase.tenantName()
      try await TestDatabase.whago(["plan", "set", plan, "--from", "business", "min_send_gap_ms=200"])
      let tenant = try await TestDatabase.tenant(plan: plan)
      let queue = TestRedis.queue()
      let catalog = try TestCatalog(
        """
        {"queues": {"\(queue)": {"weight": 1}},
         "jobs": {"diag.echo": {"queue": "\(queue)", "max_attempts": 3,
           "limits": [{"bucket": "send:{tenant}", "capacity": 1, "per_second": "1000/{plan.min_send_gap_ms}"}]}}}
        """)
      let broker = try TestRedis.broker()
      let worker = try catalog.worker(
        redis: try TestRedis.url.description, queues: queue, concurrency: 8,
        extra: ["--database-url", try TestDatabase.urlText, "--plan-cache", "0s"])
      defer { worker.signal(SIGKILL) }
      let keys = QueueKeys(queue: queue)

      func run(_ count: Int) async throws -> [Int64] {
        let ids = try await broker.enqueue(
          (0..<count).map { _ in
            JobSpec(type: "diag.echo", payload: #"{"message":"oi","witness":true}"#, queue: queue, tenant: tenant)
          }
        ).map(\.id)
        try await eventually("\(count) sends") {
          let stamped = try await broker.redis.send(RedisCommand("ZMSCORE", [keys.witnessTokens] + ids))
          return (stamped.array ?? []).allSatisfy { !$0.isNull }
        }
        let scores = try await broker.redis.send(RedisCommand("ZMSCORE", [keys.witnessTokens] + ids)).array ?? []
        return scores.compactMap { $0.string.flatMap { Double($0) }.map { Int64($0) } }.sorted()
      }
      func gaps(_ times: [Int64]) -> [Int64] { zip(times.dropFirst(), times).map { $0 - $1 } }

      let before = try await run(6)
      #expect(before.count == 6)
      #expect(gaps(before).allSatisfy { $0 >= 199 }, "gaps under the plan's 200 ms: \(gaps(before))")

      try await TestDatabase.whago(["plan", "set", plan, "min_send_gap_ms=50"])
      let after = try await run(6)
      #expect(after.count == 6)
      #expect(gaps(after).allSatisfy { $0 >= 49 }, "gaps under the new 50 ms: \(gaps(after))")
      // The new plan is in force: sends come faster than the old gap allowed.
      #expect(gaps(after).max() ?? 1_000 < 150, "the plan change was not honoured: \(gaps(after))")
      #expect(try await broker.redis.send("GET", keys.witnessEarly).isNull, "a send ran before its token existed")
    }
  }
}
