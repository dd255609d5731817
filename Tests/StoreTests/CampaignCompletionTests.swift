import CampaignStore
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// A campaign's chips reach its end together: each chip's claim finds nothing left and tries to
/// close the campaign. They must queue, not deadlock (the claim's share lock on the campaign row,
/// upgraded to close it, deadlocked with every other chip's; at 100 chips a campaign stayed
/// `running` with every message sent), and exactly one closes it, with one event.
@Suite struct CampaignCompletionTests {
  @Test func chipsReachingTheEndTogetherCloseTheCampaignOnceWithoutDeadlock() async throws {
    try await TestDatabase.migrate()
    let plan = TestDatabase.tenantName("completionplan")
    try await TestDatabase.whago(["plan", "set", plan, "--from", "enterprise", "chips=unlimited"])
    let tenant = try await TestDatabase.tenant(plan: plan, "completion")
    let pool = try TestDatabase.pool(size: 12)
    defer { pool.close() }
    let store = Store(pool: pool)
    let access = try #require(try await store.tenantAccess(named: tenant))
    var chips: [Int64] = []
    for index in 0..<24 {
      let chip = try await store.createChip(
        tenant: access, name: "c\(index)", wahaURL: "http://waha.example.invalid", session: "s\(index)-\(tenant)",
        wahaAPIKey: nil)
      chips.append(chip.id)
    }
    let recipients = (0..<48).map { CampaignRecipient(phone: "+55119\(86_000_000 + $0)", variables: [:]) }
    let campaignID = try await store.createCampaign(
      tenantID: access.tenant.id, name: "together", template: "oi", mediaURL: nil, chipIDs: chips,
      minIntervalMs: 0, maxIntervalMs: 0, startAt: nil, recipients: recipients)
    let (_, launch) = try await store.command(.start, campaignID: campaignID, tenant: access)
    let generation = try #require(launch).generation

    // Every message sent, chip by chip; no claim has yet found the end.
    var sent = 0
    for round in 0..<48 {
      let chip = chips[round % chips.count]
      let claim = try await store.claimMessage(
        campaignID: campaignID, chipID: chip, generation: generation, owner: "run-\(chip)", render: { _ in "oi" })
      guard case .message(let message) = claim else {
        Issue.record("claim \(sent + 1) found \(claim)")
        return
      }
      _ = try await store.recordSent(
        messageID: message.id, owner: "run-\(chip)", campaignID: campaignID, chipID: chip,
        wahaMessageID: "w-\(message.id)", chatID: "\(message.phone.dropFirst())@c.us")
      sent += 1
    }
    // Then every chip's next claim at once: each finds the end and tries to close the campaign.
    // A deadlock would surface as a thrown 40P01.
    let closed = try await withThrowingTaskGroup(of: Int.self) { group in
      for chip in chips {
        group.addTask {
          let claim = try await store.claimMessage(
            campaignID: campaignID, chipID: chip, generation: generation, owner: "run-\(chip)",
            render: { _ in "oi" })
          switch claim {
          case .finished(let completed): return completed ? 1 : 0
          // A claim that began after another chip closed the campaign finds it no longer running.
          case .stopped: return 0
          default:
            Issue.record("chip \(chip) found \(claim) after the last message")
            return 0
          }
        }
      }
      return try await group.reduce(0, +)
    }
    // Nor may a deadlock hide behind the pool's retry of a transaction the server aborted.
    #expect(pool.conflictsRetried == 0)
    let closers = (sent: sent, closed: closed)
    #expect(closers.sent == 48)
    #expect(closers.closed == 1)
    let record = try #require(try await store.campaign(tenantID: access.tenant.id, id: campaignID)).0
    #expect(record.status == .completed)
    let events = try await pool.query(
      """
      SELECT payload->>'sent' AS sent FROM events
      WHERE kind = 'campaign.completed' AND subject_type = 'campaign' AND subject_id = $1
      """, [campaignID]
    ).rows.map { try $0.decode("sent", as: String.self) }
    #expect(events == ["48"])
  }
}
