import CampaignStore
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// WAHA's ack webhook can reach serve before the worker that sent the message has recorded the
/// send: the ack is kept and applied by the send's own transaction, never lost, whichever of the
/// two commits first.
@Suite struct EarlyAckTests {
  struct Fixture {
    let pool: PostgresPool
    let store: Store
    let campaignID: Int64
    let chipID: Int64
    let generation: Int
    let tenant: String

    static func start(recipients: Int, _ label: String = #function) async throws -> Fixture {
      try await TestDatabase.migrate()
      let tenant = try await TestDatabase.tenant(plan: "enterprise", label)
      let pool = try TestDatabase.pool(size: 4)
      let store = Store(pool: pool)
      let access = try #require(try await store.tenantAccess(named: tenant))
      let chip = try await store.createChip(
        tenant: access, name: "c", wahaURL: "http://waha.example.invalid", session: "s-\(tenant)", wahaAPIKey: nil)
      let phones = (0..<recipients).map { CampaignRecipient(phone: "+55119\(87_000_000 + $0)", variables: [:]) }
      let id = try await store.createCampaign(
        tenantID: access.tenant.id, name: "acks", template: "oi", mediaURL: nil, chipIDs: [chip.id],
        minIntervalMs: 0, maxIntervalMs: 0, startAt: nil, recipients: phones)
      let (_, launch) = try await store.command(.start, campaignID: id, tenant: access)
      return Fixture(
        pool: pool, store: store, campaignID: id, chipID: chip.id, generation: try #require(launch).generation,
        tenant: tenant)
    }

    func claim() async throws -> Int64 {
      let claim = try await store.claimMessage(
        campaignID: campaignID, chipID: chipID, generation: generation, owner: "run", render: { _ in "oi" })
      guard case .message(let message) = claim else {
        Issue.record("expected a message, got \(claim)")
        throw CancellationError()
      }
      return message.id
    }

    func send(_ id: Int64, as wahaID: String) async throws {
      let sent = try await store.recordSent(
        messageID: id, owner: "run", campaignID: campaignID, chipID: chipID, wahaMessageID: wahaID,
        chatID: "5511987000000@c.us")
      #expect(sent != nil)
    }

    func state(_ id: Int64) async throws -> (state: String, delivered: Bool, read: Bool) {
      let row = try await pool.query(
        """
        SELECT state, delivered_at IS NOT NULL AS delivered, read_at IS NOT NULL AS read
        FROM campaign_messages WHERE id = $1
        """, [id])[0]
      return (try row.decode("state"), try row.decode("delivered"), try row.decode("read"))
    }

    func waiting(_ wahaID: String) async throws -> Int {
      try await pool.query("SELECT 1 FROM early_message_acks WHERE waha_message_id = $1", [wahaID]).count
    }
  }

  @Test func anAckBeforeTheSendIsRecordedIsAppliedWhenItIs() async throws {
    let f = try await Fixture.start(recipients: 3)
    defer { f.pool.close() }
    let read = try await f.claim()
    let wahaRead = "early-read-\(f.tenant)"
    // DEVICE then READ arrive while the message is still being sent: kept, the highest wins.
    #expect(try await f.store.applyMessageAck(eventID: "\(wahaRead)-2", messageID: wahaRead, ack: 2) == .applied)
    #expect(try await f.store.applyMessageAck(eventID: "\(wahaRead)-3", messageID: wahaRead, ack: 3) == .applied)
    #expect(try await f.state(read).state == "sending")
    #expect(try await f.waiting(wahaRead) == 1)
    try await f.send(read, as: wahaRead)
    #expect(try await f.state(read) == ("read", true, true))
    #expect(try await f.waiting(wahaRead) == 0)

    // The usual order: recorded, then acked; a redelivered ack changes nothing twice.
    let delivered = try await f.claim()
    let wahaDelivered = "late-\(f.tenant)"
    try await f.send(delivered, as: wahaDelivered)
    #expect(try await f.state(delivered) == ("sent", false, false))
    let event = "\(wahaDelivered)-2"
    #expect(try await f.store.applyMessageAck(eventID: event, messageID: wahaDelivered, ack: 2) == .applied)
    #expect(try await f.store.applyMessageAck(eventID: event, messageID: wahaDelivered, ack: 2) == .duplicate)
    #expect(try await f.state(delivered) == ("delivered", true, false))
    #expect(try await f.waiting(wahaDelivered) == 0)
    // A message never moves back: DEVICE after READ leaves it read.
    _ = try await f.store.applyMessageAck(eventID: "\(wahaDelivered)-3", messageID: wahaDelivered, ack: 3)
    _ = try await f.store.applyMessageAck(eventID: "\(wahaDelivered)-2b", messageID: wahaDelivered, ack: 2)
    #expect(try await f.state(delivered) == ("read", true, true))

    // An early ack kept for one chip is not applied to another chip's send of the same id.
    let other = try await f.claim()
    let wahaOther = "other-chip-\(f.tenant)"
    _ = try await f.store.applyMessageAck(
      eventID: wahaOther, messageID: wahaOther, ack: 3, chipID: f.chipID + 1_000_000)
    try await f.send(other, as: wahaOther)
    #expect(try await f.state(other) == ("sent", false, false))

    // Acks for messages no campaign sent (a chip's own chats) are pruned with the deliveries.
    let stray = "stray-\(f.tenant)"
    _ = try await f.store.applyMessageAck(eventID: stray, messageID: stray, ack: 2)
    #expect(try await f.waiting(stray) == 1)
    try await f.pool.query(
      "UPDATE early_message_acks SET received_at = now() - interval '10 days' WHERE waha_message_id = $1", [stray])
    _ = try await f.store.pruneWebhookEvents(olderThanDays: 3)
    #expect(try await f.waiting(stray) == 0)
    #expect(try await f.waiting(wahaOther) == 1)
  }

  /// The ack and the send's record race on separate connections, in both orders and at once:
  /// every message ends delivered.
  @Test func anAckRacingTheSendsRecordIsNeverLost() async throws {
    let count = 40
    let f = try await Fixture.start(recipients: count)
    defer { f.pool.close() }
    var ids: [Int64] = []
    for _ in 0..<count { ids.append(try await f.claim()) }
    try await withThrowingTaskGroup(of: Void.self) { group in
      for (index, id) in ids.enumerated() {
        let wahaID = "race-\(index)-\(f.tenant)"
        group.addTask { try await f.send(id, as: wahaID) }
        group.addTask {
          let outcome = try await f.store.applyMessageAck(eventID: wahaID, messageID: wahaID, ack: 2)
          #expect(outcome == .applied)
        }
      }
      try await group.waitForAll()
    }
    for (index, id) in ids.enumerated() {
      #expect(try await f.state(id) == ("delivered", true, false), "message \(index)")
      #expect(try await f.waiting("race-\(index)-\(f.tenant)") == 0)
    }
  }
}
