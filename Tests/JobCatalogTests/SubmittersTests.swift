import Foundation
import JobCatalog
import Testing

/// Who may submit which job type over HTTP, as the catalog says it.
@Suite struct SubmittersTests {
  func parse(_ job: String) throws -> JobCatalog {
    try JobCatalog.parse(Data(#"{"queues": {"q": {"weight": 1}}, "jobs": {"t": \#(job)}}"#.utf8), source: "test")
  }

  @Test func submitNamesOperatorsOrTenantsAndDefaultsToNobody() throws {
    #expect(try parse(#"{"queue": "q"}"#).jobs["t"]?.submitters == .nobody)
    #expect(try parse(#"{"queue": "q", "submit": "operators"}"#).jobs["t"]?.submitters == .operators)
    #expect(try parse(#"{"queue": "q", "submit": "tenants"}"#).jobs["t"]?.submitters == .tenants)
    for bad in [#""everyone""#, #""nobody""#] {
      #expect {
        try parse(#"{"queue": "q", "submit": \#(bad)}"#)
      } throws: { "\($0)".contains("\"operators\" or \"tenants\"") }
    }
  }

  /// A catalog written for the old boolean is refused with what to write instead, not read as
  /// "nobody" in silence.
  @Test func theOldSubmittableFlagIsRefusedWithItsReplacement() throws {
    #expect {
      try parse(#"{"queue": "q", "submittable": true}"#)
    } throws: { "\($0)".contains("replaced by \"submit\"") }
  }

  /// What tenants or operators can submit never runs on the queues that renew subscriptions or
  /// send campaigns: a submission cannot take their workers' slots.
  @Test func theShippedCatalogKeepsSubmittedWorkOffBillingAndCampaigns() throws {
    let directory = ProcessInfo.processInfo.environment["WHAGO_JOBS_DIR"] ?? "jobs"
    let catalog = try JobCatalog.load(directory: directory)
    let submitted = catalog.jobs.values.filter { $0.submitters != .nobody }
    #expect(!submitted.isEmpty)
    for policy in submitted {
      #expect(!["billing", "campaigns", "maturation", "webhooks"].contains(policy.queue), "\(policy.type)")
      #expect(policy.submitters == .operators, "\(policy.type) is diagnostic work, for operators only")
    }
    #expect(catalog.jobs["billing.renew"]?.submitters == .nobody)
  }
}
