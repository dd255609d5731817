import CampaignStore
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// The claim of a campaign's next message, in both of its forms: the one statement that takes a
/// plan credit and leaves the text to the pre-send check, and the transaction that settles what
/// stands before a claim (here, the low-credit alert and a recipient the template cannot serve).
@Suite struct ClaimTests {
  struct Fixture {
    let pool: PostgresPool
    let store: Store
    let tenantID: TenantID
    let campaignID: Int64
    let chipID: Int64
    let generation: Int
    let tenant: String

    /// A campaign of `recipients` numbers, recipient i with the variable nome = "n<i>", for a
    /// tenant whose plan grants `credits` a month.
    static func start(recipients: Int, credits: Int, _ label: String = #function) async throws -> Fixture {
      try await TestDatabase.migrate()
      let plan = "claim\(UInt32.random(in: 0...UInt32.max))"
      _ = try await TestDatabase.whago([
        "plan", "set", plan, "--from", "business", "monthly_credits=\(credits)", "chips=unlimited",
      ])
      let tenant = try await TestDatabase.tenant(plan: plan, label)
      let pool = try TestDatabase.pool(size: 4)
      let store = Store(pool: pool)
      let access = try #require(try await store.tenantAccess(named: tenant))
      let chip = try await store.createChip(
        tenant: access, name: "c", wahaURL: "http://waha.example.invalid", session: "s-\(tenant)", wahaAPIKey: nil)
      let phones = (0..<recipients).map {
        CampaignRecipient(phone: "+55119\(86_000_000 + $0)", variables: ["nome": "n\($0)"])
      }
      let id = try await store.createCampaign(
        tenantID: access.tenant.id, name: "claims", template: "oi {{nome}}", mediaURL: nil, chipIDs: [chip.id],
        minIntervalMs: 0, maxIntervalMs: 0, startAt: nil, recipients: phones)
      let (_, launch) = try await store.command(.start, campaignID: id, tenant: access)
      return Fixture(
        pool: pool, store: store, tenantID: access.tenant.id, campaignID: id, chipID: chip.id,
        generation: try #require(launch).generation, tenant: tenant)
    }

    /// Claims the next message, rendering "oi <nome>" except for the variables `refuse` names.
    func claim(refusing refuse: String? = nil) async throws -> OutgoingMessage {
      let claim = try await store.claimMessage(
        campaignID: campaignID, chipID: chipID, generation: generation, owner: "run",
        render: { variables in
          guard
            let values = try? JSONDecoder().decode([String: String].self, from: Data(variables.utf8)),
            let name = values["nome"], name != refuse
          else { return nil }
          return "oi \(name)"
        })
      guard case .message(let message) = claim else {
        Issue.record("expected a message, got \(claim)")
        throw CancellationError()
      }
      return message
    }

    func planCreditsLeft() async throws -> Int {
      try await pool.query("SELECT plan_credits_left FROM credit_accounts WHERE tenant_id = $1", [tenantID])[0]
        .decode("plan_credits_left")
    }

    func charges(_ messageID: Int64) async throws -> [Int] {
      try await pool.query(
        "SELECT delta FROM credit_ledger WHERE campaign_message_id = $1 AND reason = 'message'", [messageID]
      ).rows.map { try $0.decode("delta") }
    }

    func lowAlerts() async throws -> Int {
      try await pool.query(
        "SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND kind = 'credits.low'", [tenantID]
      )[0].decode("n")
    }

    func message(_ id: Int64) async throws -> (state: String, rendered: String?, error: String?) {
      let row = try await pool.query("SELECT state, rendered, error FROM campaign_messages WHERE id = $1", [id])[0]
      return (try row.decode("state"), try row.decodeIfPresent("rendered"), try row.decodeIfPresent("error"))
    }
  }

  @Test func aClaimTakesOnePlanCreditAndThePreSendCheckKeepsItsText() async throws {
    let f = try await Fixture.start(recipients: 3, credits: 100)
    defer { f.pool.close() }
    // The first claim opens the tenant's credit account (the settling path); the next are plain.
    let first = try await f.claim()
    #expect(first.text == "oi n0" && first.variables == nil, "the settling path keeps the text it renders")
    try await f.store.recordSent(
      messageID: first.id, owner: "run", campaignID: f.campaignID, chipID: f.chipID, wahaMessageID: nil,
      chatID: "5511986000000@c.us")
    let before = try await f.planCreditsLeft()
    let message = try await f.claim()
    #expect(try await f.planCreditsLeft() == before - 1)
    #expect(try await f.charges(message.id) == [-1])
    #expect(message.text == "oi n1")
    #expect(message.variables?.contains("n1") == true)
    // Claimed, not checked: the message holds no text, and a run that finds it in flight is told
    // so, with what to render it from.
    #expect(try await f.message(message.id).state == "sending")
    #expect(try await f.message(message.id).rendered == nil)
    let found = try #require(try await f.store.senderState(campaignID: f.campaignID, chipID: f.chipID)?.inFlight)
    #expect(found.id == message.id && found.variables == message.variables && found.text.isEmpty)
    // The check keeps the text, once: a later check's text does not replace it.
    #expect(
      try await f.store.sendCheck(
        messageID: message.id, owner: "run", campaignID: f.campaignID, generation: f.generation, text: message.text)
        == .send)
    #expect(
      try await f.store.sendCheck(
        messageID: message.id, owner: "run", campaignID: f.campaignID, generation: f.generation, text: "other")
        == .send)
    #expect(try await f.message(message.id).rendered == "oi n1")
    let checked = try await f.store.takeOver(messageID: message.id, owner: "run")
    #expect(checked.text == "oi n1" && checked.variables == nil)
  }

  @Test func theLowCreditAlertComesOnceAtATenthLeft() async throws {
    // 20 credits: the alert is due when a claim leaves 2 or fewer.
    let f = try await Fixture.start(recipients: 20, credits: 20)
    defer { f.pool.close() }
    for _ in 0..<16 { _ = try await f.claim() }
    // A claim that stays above the line is the one statement (it leaves the text to the check);
    // the one that reaches it settles (it renders and keeps the text) and raises the alert.
    #expect(try await f.claim().variables != nil)
    #expect(try await f.planCreditsLeft() == 3)
    #expect(try await f.lowAlerts() == 0)
    #expect(try await f.claim().variables == nil)
    #expect(try await f.planCreditsLeft() == 2)
    #expect(try await f.lowAlerts() == 1)
    _ = try await f.claim()
    _ = try await f.claim()
    #expect(try await f.planCreditsLeft() == 0)
    #expect(try await f.lowAlerts() == 1)
    let spent = try await f.pool.query(
      "SELECT count(*)::int AS n FROM credit_ledger WHERE tenant_id = $1 AND reason = 'message'", [f.tenantID])
    #expect(try spent[0].decode("n", as: Int.self) == 20)
  }

  @Test func aPacksCreditsKeepTheClaimInOneStatementNearTheEndOfThePlans() async throws {
    // 20 plan credits and a pack of 100: the alert's line is 12 credits left in all, so the plan's
    // last credits are claimed in one statement, and the alert waits for the pack's tenth.
    let f = try await Fixture.start(recipients: 22, credits: 20)
    defer { f.pool.close() }
    _ = try await f.claim()
    _ = try await f.store.addCreditPack(tenant: f.tenant, credits: 100)
    for _ in 0..<18 { _ = try await f.claim() }
    #expect(try await f.planCreditsLeft() == 1)
    #expect(try await f.claim().variables != nil, "the plan's last credit, with 100 in the pack")
    #expect(try await f.planCreditsLeft() == 0)
    // Then the pack: spending it is the settling claim's.
    let fromPack = try await f.claim()
    #expect(fromPack.variables == nil)
    let pack = try await f.pool.query(
      "SELECT bucket FROM credit_ledger WHERE campaign_message_id = $1 AND reason = 'message'", [fromPack.id])
    #expect(try pack[0].decode("bucket", as: String.self) == "pack")
    #expect(try await f.lowAlerts() == 0)
  }

  @Test func aRecipientTheTemplateCannotServeFailsWithItsCreditBack() async throws {
    let f = try await Fixture.start(recipients: 3, credits: 100)
    defer { f.pool.close() }
    _ = try await f.claim()
    let before = try await f.planCreditsLeft()
    // n1 cannot be rendered: it fails, its credit comes back, and the claim goes on to n2.
    let message = try await f.claim(refusing: "n1")
    #expect(message.text == "oi n2")
    #expect(try await f.planCreditsLeft() == before - 1)
    let failed = try await f.pool.query(
      "SELECT id, state, error FROM campaign_messages WHERE campaign_id = $1 AND vars->>'nome' = 'n1'",
      [f.campaignID])[0]
    #expect(try failed.decode("state", as: String.self) == "failed")
    #expect(try failed.decode("error", as: String.self) == Store.missingVariable)
    #expect(try await f.charges(try failed.decode("id")).isEmpty)
  }
}
