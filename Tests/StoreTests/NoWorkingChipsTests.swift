import CampaignStore
import Foundation
import Postgres
import Store
import TestSupport
import Testing
import Wire

/// A running campaign follows its chips: it pauses (`no_working_chips`) when its last WORKING
/// chip stops working, and resumes at a new generation (for `campaigns.sweep` to launch) when one
/// works again, each with its event. A campaign paused for any other reason is left alone.
@Suite struct NoWorkingChipsTests {
  @Test func aCampaignPausesWithItsLastWorkingChipAndResumesWithTheFirstBack() async throws {
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: "enterprise", "nochips")
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let access = try #require(try await store.tenantAccess(named: tenant))
    var chips: [Int64] = []
    for name in ["um", "dois"] {
      let chip = try await store.createChip(
        tenant: access, name: name, wahaURL: "http://waha.example.invalid", session: "\(name)-\(tenant)",
        wahaAPIKey: nil)
      try await store.recordChipStatus(id: chip.id, status: .working)
      chips.append(chip.id)
    }
    func create() async throws -> Int64 {
      let id = try await store.createCampaign(
        tenantID: access.tenant.id, name: "c", template: "Oi", mediaURL: nil, chipIDs: chips, minIntervalMs: 0,
        maxIntervalMs: 0, startAt: nil, recipients: [CampaignRecipient(phone: "+5511900000001", variables: [:])])
      _ = try await store.command(.start, campaignID: id, tenant: access)
      return id
    }
    let (following, manual) = (try await create(), try await create())
    _ = try await store.command(.pause, campaignID: manual, tenant: access)
    func state(_ id: Int64) async throws -> (CampaignStatus, String?) {
      let record = try #require(try await store.campaign(tenantID: access.tenant.id, id: id)).0
      return (record.status, record.pauseReason)
    }
    /// The campaign's events of `type`, read from the table: the feed would hold them back while
    /// another test's transaction is open.
    func events(_ type: EventType, _ campaign: Int64) async throws -> [String] {
      try await pool.query(
        """
        SELECT payload->>'reason' AS reason FROM events
        WHERE kind = $1 AND subject_type = 'campaign' AND subject_id = $2 ORDER BY id
        """, [type.rawValue, campaign]
      ).rows.map { try $0.decode("reason") }
    }

    // One chip of two stops: the other still sends.
    try await store.recordChipStatus(id: chips[0], status: .stopped)
    #expect(try await state(following) == (.running, nil))
    // The last one fails too: paused, with the reason and the chip that ended it.
    try await store.recordChipStatus(id: chips[1], status: .failed)
    #expect(try await state(following) == (.paused, "no_working_chips"))
    #expect(try await state(manual) == (.paused, "manual"))
    #expect(try await events(.campaignPaused, following) == ["no_working_chips"])
    // Going from FAILED to STOPPED is no change worth a second pause.
    try await store.recordChipStatus(id: chips[1], status: .stopped)
    #expect(try await events(.campaignPaused, following) == ["no_working_chips"])

    // The first chip works again: the campaign resumes at a new generation the sweep launches;
    // the manual pause stays.
    func generation() async throws -> Int {
      try await pool.query("SELECT generation FROM campaigns WHERE id = $1", [following])[0].decode("generation")
    }
    let before = try await generation()
    try await store.recordChipStatus(id: chips[0], status: .working)
    #expect(try await generation() == before + 1)
    #expect(try await state(following) == (.running, nil))
    #expect(try await state(manual) == (.paused, "manual"))
    #expect(try await store.unlaunchedCampaigns().map(\.campaignID).contains(following))
    #expect(try await events(.campaignResumed, following) == ["no_working_chips"])
  }
}
