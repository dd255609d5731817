import BillingStore
import CampaignStore
import Foundation
import Postgres
import Store
import TestSupport
import Testing
import Wire

/// A downgrade that leaves a tenant more chips than its new plan allows: the renewal still
/// happens, and the extra chips go read-only (no sends) in the order the tenant chose, then newest
/// first, each with an event; a campaign left without a writable WORKING chip pauses. A plan that
/// allows them again gives them back.
@Suite struct ReadOnlyChipsTests {
  @Test func theRenewalOnASmallerPlanMakesTheExtraChipsReadOnlyAndAnUpgradeGivesThemBack() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let tenant = try await TestDatabase.tenant(plan: "free", "readonly")
    // Out of reach of the end-to-end runs' sweeps (see `PlanChangeTests.isolatedNow`).
    let now = try await PlanChangeTests.isolatedNow()
    let periodEnd = now.addingTimeInterval(3600)
    let subscription = try await store.createSubscription(
      tenant: tenant, plan: "enterprise", gateway: "stripe", customer: "cus_\(tenant)", paymentMethod: "pm_card_visa",
      periodEnd: periodEnd)
    let access = try #require(try await store.tenantAccess(named: tenant))
    var chips: [Int64] = []
    for index in 1...5 {
      let chip = try await store.createChip(
        tenant: access, name: "chip\(index)", wahaURL: "http://waha.example.invalid",
        session: "s\(index)-\(tenant)", wahaAPIKey: nil)
      try await store.recordChipStatus(id: chip.id, status: .working)
      chips.append(chip.id)
    }
    func campaign(_ from: [Int64]) async throws -> Int64 {
      let id = try await store.createCampaign(
        tenantID: access.tenant.id, name: "c", template: "Oi", mediaURL: nil, chipIDs: from, minIntervalMs: 0,
        maxIntervalMs: 0, startAt: nil, recipients: [CampaignRecipient(phone: "+5511900000001", variables: [:])])
      _ = try await store.command(.start, campaignID: id, tenant: access)
      return id
    }
    // Chips 3 and 4 will go read-only: this campaign keeps none, the other keeps chip 5.
    let stranded = try await campaign([chips[2], chips[3]])
    let kept = try await campaign([chips[3], chips[4]])
    func readOnly() async throws -> [Int64] {
      try await store.chips(tenantID: access.tenant.id).filter { $0.readOnlySince != nil }.map(\.id).sorted()
    }
    func status(_ id: Int64) async throws -> (CampaignStatus, String?) {
      let record = try #require(try await store.campaign(tenantID: access.tenant.id, id: id)).0
      return (record.status, record.pauseReason)
    }
    func events(_ type: EventType) async throws -> [Int64] {
      try await pool.query(
        """
        SELECT e.subject_id FROM events e JOIN tenants t ON t.id = e.tenant_id
        WHERE t.name = $1 AND e.kind = $2 ORDER BY e.subject_id
        """, [tenant, type.rawValue]
      ).rows.map { try $0.decode("subject_id", as: Int64.self) }
    }

    // Business allows 3 of the 5: keep chip 5 first, then the oldest (1 and 2).
    await #expect(throws: PlanChangeError.unknownChips([999_999_999])) {
      try await store.changePlan(tenant: tenant, to: "business", keepChips: [chips[4], 999_999_999], now: now)
    }
    let down = try await store.changePlan(tenant: tenant, to: "business", keepChips: [chips[4]], now: now)
    #expect(down.kind == .downgrade)
    #expect(try await readOnly().isEmpty, "nothing changes before the renewal")

    let after = periodEnd.addingTimeInterval(60)
    let renewal = try #require(
      try await store.prepareCharge(subscriptionID: subscription.id, periodStart: periodEnd, now: after))
    _ = try await store.recordCharge(renewal, result: .succeeded(paymentID: "pi_\(tenant)"), now: after)
    #expect(try await store.tenant(named: tenant).plan == "business", "the renewal happened")
    #expect(try await readOnly() == [chips[2], chips[3]])
    #expect(try await events(.chipReadOnly) == [chips[2], chips[3]])
    #expect(try await status(stranded) == (.paused, "no_working_chips"))
    #expect(try await status(kept) == (.running, nil))
    // Its sender sees the chip is read-only, and a chip coming back to WORKING does not resume it.
    let sender = try #require(try await store.senderState(campaignID: kept, chipID: chips[3]))
    #expect(sender.chip.readOnly)
    try await store.recordChipStatus(id: chips[2], status: .stopped)
    try await store.recordChipStatus(id: chips[2], status: .working)
    #expect(try await status(stranded) == (.paused, "no_working_chips"))
    // A new chip is still refused: five are registered, business allows three.
    await #expect(throws: ChipError.overPlan(plan: "business", limit: 3)) {
      try await store.createChip(
        tenant: try #require(try await store.tenantAccess(named: tenant)), name: "chip6",
        wahaURL: "http://waha.example.invalid", session: "s6-\(tenant)", wahaAPIKey: nil)
    }

    // An operator puts it back on enterprise: every chip sends again, the campaign resumes.
    try await store.setPlan(tenant: tenant, plan: "enterprise")
    #expect(try await readOnly().isEmpty)
    #expect(try await events(.chipWritable) == [chips[2], chips[3]])
    #expect(try await status(stranded) == (.running, nil))
    // Enforcing again changes nothing: no second event.
    try await store.setPlan(tenant: tenant, plan: "enterprise")
    #expect(try await events(.chipReadOnly).count == 2)
    #expect(try await events(.chipWritable).count == 2)
  }
}
