import Foundation
import JobCatalog
import JobQueue
import Testing

@Suite struct LimitTemplateTests {
  func template(_ limit: String) throws -> LimitTemplate {
    let catalog = try JobCatalog.parse(
      Data(
        """
        {"queues": {"q": {"weight": 1}}, "jobs": {"t": {"queue": "q", "limits": [\(limit)]}}}
        """.utf8), source: "test")
    return try #require(catalog.jobs["t"]?.limits.first)
  }

  @Test func planLimitsAreReadAtTakeTime() throws {
    let gap = try template(#"{"bucket": "chip:{chip_id}", "capacity": 1, "per_second": "1000/{plan.min_send_gap_ms}"}"#)
    #expect(gap.needsPlan)
    let bucket = try #require(try gap.resolve(payload: ["chip_id": 7], tenant: "acme", plan: ["min_send_gap_ms": 5000]))
    #expect(bucket.name == "chip:7" && bucket.capacity == 1 && bucket.refillPerSecond == 0.2)

    let hourly = try template(
      #"{"bucket": "api:{tenant}", "capacity": "{plan.api_requests_per_hour}", "per_second": "{plan.api_requests_per_hour}/3600"}"#
    )
    let api = try #require(try hourly.resolve(payload: [:], tenant: "acme", plan: ["api_requests_per_hour": 1000]))
    #expect(api.name == "api:acme" && api.capacity == 1000 && abs(api.refillPerSecond - 1000.0 / 3600) < 1e-9)
    // Unlimited on this plan: no bucket at all.
    let unlimited: [String: Double?] = ["api_requests_per_hour": Double?.none]
    #expect(try hourly.resolve(payload: [:], tenant: "acme", plan: unlimited) == nil)
    // Without a plan, or for a limit plans do not have, the error says what is missing.
    #expect(throws: LimitError.self) { try hourly.resolve(payload: [:], tenant: "acme", plan: nil) }
    #expect(throws: LimitError.self) { try hourly.resolve(payload: [:], tenant: "acme", plan: ["chips": 3]) }
    #expect(throws: LimitError.self) {
      try hourly.resolve(payload: [:], tenant: nil, plan: ["api_requests_per_hour": 5])
    }
    #expect(!(try template(#"{"bucket": "b", "capacity": 2, "per_second": "{rate}"}"#).needsPlan))
    #expect(throws: (any Error).self) { try template(#"{"bucket": "b", "capacity": 1, "per_second": "{plan.x}*3"}"#) }
  }
}
