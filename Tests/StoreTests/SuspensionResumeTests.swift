import BillingStore
import CampaignStore
import Foundation
import JobCatalog
import JobContracts
import JobQueue
import Logging
import Postgres
import Store
import TestSupport
import Testing

@testable import CampaignJobs

/// An account suspended for non-payment pauses its campaigns (`tenant_suspended`); the payment
/// that lifts the suspension resumes them, in the same transaction, at a new generation, and their
/// `campaign.start` is enqueued by whoever recorded the payment or, if that process died first, by
/// `campaigns.sweep`. A campaign paused by hand stays paused.
@Suite struct SuspensionResumeTests {
  /// The sender's next claim finds the tenant suspended: the campaign pauses, with the event the
  /// tenant and WHAGO's backend hear it by, once.
  @Test func aRunningCampaignOfASuspendedTenantPausesAtItsNextClaimWithAnEvent() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let name = try await TestDatabase.tenant(plan: "enterprise", "suspendclaim")
    let access = try #require(try await store.tenantAccess(named: name))
    let chip = try await store.createChip(
      tenant: access, name: "c", wahaURL: "http://waha.example.invalid", session: "s-\(name)", wahaAPIKey: nil)
    let id = try await store.createCampaign(
      tenantID: access.tenant.id, name: "c", template: "oi", mediaURL: nil, chipIDs: [chip.id], minIntervalMs: 0,
      maxIntervalMs: 0, startAt: nil, recipients: [CampaignRecipient(phone: "+5511987654321", variables: [:])])
    let (_, launch) = try await store.command(.start, campaignID: id, tenant: access)
    let generation = try #require(launch).generation
    try await pool.query("UPDATE tenants SET status = 'suspended' WHERE id = $1", [access.tenant.id])
    for _ in 0..<2 {
      let claim = try await store.claimMessage(
        campaignID: id, chipID: chip.id, generation: generation, owner: "test", render: { _ in "oi" })
      #expect(claim == .stopped)
    }
    let record = try #require(try await store.campaign(tenantID: access.tenant.id, id: id)).0
    #expect(record.status == .paused && record.pauseReason == "tenant_suspended")
    let reasons = try await pool.query(
      """
      SELECT payload->>'reason' AS reason FROM events
      WHERE kind = 'campaign.paused' AND subject_type = 'campaign' AND subject_id = $1
      """, [id]
    ).rows.map { try $0.decode("reason", as: String.self) }
    #expect(reasons == ["tenant_suspended"])
  }

  @Test func aPaymentThatLiftsASuspensionResumesTheCampaignsItPausedAndTheSweepLaunchesThem() async throws {
    let f = try await GatewayOutcomeTests.Fixture.start()
    defer { f.pool.close() }
    let tenant = try await f.store.tenant(named: f.tenant)
    let chip: Int64 = try await f.pool.query(
      "INSERT INTO chips (tenant_id, name, waha_url, session) VALUES ($1, 'c1', 'http://127.0.0.1:9', 's1') RETURNING id",
      [tenant.id])[0].decode("id")
    func campaign(_ name: String) async throws -> Int64 {
      try await f.store.createCampaign(
        tenantID: tenant.id, name: name, template: "oi", mediaURL: nil, chipIDs: [chip], minIntervalMs: 30_000,
        maxIntervalMs: 60_000, startAt: nil, recipients: [CampaignRecipient(phone: "+5511987654321", variables: [:])])
    }
    let suspended = try await campaign("paused by the suspension")
    let manual = try await campaign("paused by hand")
    // Both were sending at generation 3 (launched), then paused: one by the suspension, one by hand.
    try await f.pool.query(
      """
      UPDATE campaigns SET status = 'paused', generation = 3, launched_generation = 3, started_at = now(),
        pause_reason = CASE WHEN id = $1 THEN 'tenant_suspended' ELSE 'manual' END
      WHERE id IN ($1, $2)
      """, [suspended, manual])
    try await f.pool.query("UPDATE tenants SET status = 'suspended' WHERE id = $1", [tenant.id])
    func status(_ id: Int64) async throws -> (String, String?, Int) {
      let row = try await f.pool.query("SELECT status, pause_reason, generation FROM campaigns WHERE id = $1", [id])[0]
      return (try row.decode("status"), try row.decodeIfPresent("pause_reason"), try row.decode("generation"))
    }
    func unlaunched() async throws -> [Int64] {
      try await f.store.unlaunchedCampaigns(limit: 100_000).map(\.campaignID).filter {
        [suspended, manual].contains($0)
      }
    }
    #expect(try await unlaunched().isEmpty)

    // The late payment of attempt 3 arrives by webhook.
    let outcome = try await f.store.reconcileCharge(
      invoiceID: f.invoiceID, attemptKey: f.keys[2], gatewayPaymentID: "pi_paid",
      result: .succeeded(paymentID: "pi_paid"), now: try await TestDatabase.now(),
      delivery: GatewayDelivery(source: "stripe", eventID: "evt_\(f.invoiceID)_paid", type: "payment_intent.succeeded"))
    #expect(outcome.outcome == .applied)
    // The payment hands back what it resumed, the suspended campaign alone, for the caller to launch.
    #expect(outcome.resumed.map(\.campaignID) == [suspended] && outcome.resumed.map(\.generation) == [4])
    let state = try await f.state()
    #expect(state.tenant == "active" && state.invoice == "paid")
    #expect(state.events == ["billing.reactivated", "campaign.resumed", "billing.paid"], "\(state.events)")
    let (resumedStatus, resumedReason, resumedGeneration) = try await status(suspended)
    #expect(resumedStatus == "running" && resumedReason == nil && resumedGeneration == 4)
    let (manualStatus, manualReason, manualGeneration) = try await status(manual)
    #expect(manualStatus == "paused" && manualReason == "manual" && manualGeneration == 3)
    // Committed at generation 4, not yet launched: the enqueue after the commit could be lost here.
    #expect(try await unlaunched() == [suspended])

    // The sweep launches it: campaign.start for generation 4 is on the queue, under its key.
    let queue = TestRedis.queue()
    let catalog = try JobCatalog.parse(
      Data(
        #"""
        {"queues": {"\#(queue)": {"weight": 1}},
         "jobs": {"campaign.start": {"queue": "\#(queue)", "max_attempts": 10, "timeout_ms": 60000}}}
        """#.utf8), source: "test")
    let broker = try TestRedis.broker()
    let launcher = CampaignLauncher(broker: broker, catalog: catalog)
    // The sweep's own code, run in process as a worker would run it.
    let context = JobContext(
      id: "sweep", queue: queue, type: CampaignsSweepJob.type, attempt: 1, maxAttempts: 1, broker: broker,
      baseLogger: Logger(label: "test"), tokensAt: nil, leaseToken: "token", lease: .seconds(30), leaseLost: { false })
    try await CampaignSweep(store: f.store, launcher: launcher).run(NoParameters(), context: context)
    let again = try await broker.enqueue(
      JobSpec(
        type: "campaign.start", payload: "{}", queue: queue, maxAttempts: 1,
        idempotencyKey: "campaign:\(suspended):start:4", tenant: f.tenant))
    #expect(again.duplicate, "the sweep enqueued campaign.start for generation 4")
    let started = try await broker.job(id: again.id)
    #expect(started.type == "campaign.start" && started.state == .ready)
    #expect(started.payload == #"{"campaign_id":\#(suspended),"generation":4}"#, "\(started.payload)")

    // The start runs: generation 4 is launched, and the sweep leaves the campaign alone from then on.
    let begun = try await f.store.beginCampaign(campaignID: suspended, generation: 4)
    #expect(begun?.chipIDs == [chip])
    #expect(try await unlaunched().isEmpty)
  }
}
