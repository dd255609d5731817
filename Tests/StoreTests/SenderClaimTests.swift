import CampaignStore
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// A sender's claim (`claimForSender`): one statement that claims and reads what the sender would
/// have read before it, and claims nothing while the chip cannot send (not WORKING, read-only, no
/// longer the campaign's) or holds a message in flight, which the sender must look at first.
@Suite struct SenderClaimTests {
  @Test func aSenderClaimsWithItsStateAndOnlyWhileItsChipCanSend() async throws {
    let f = try await ClaimTests.Fixture.start(recipients: 6, credits: 100)
    defer { f.pool.close() }
    func claim() async throws -> SenderClaim {
      try await f.store.claimForSender(
        campaignID: f.campaignID, chipID: f.chipID, generation: f.generation, owner: "run",
        render: { variables in variables.contains("n") ? "rendered" : nil })
    }
    func sending() async throws -> [Int64] {
      try await f.pool.query(
        "SELECT id FROM campaign_messages WHERE campaign_id = $1 AND state = 'sending' ORDER BY id", [f.campaignID]
      ).rows.map { try $0.decode("id") }
    }
    func setChip(_ assignments: String) async throws {
      _ = try await f.pool.query("UPDATE chips SET \(assignments) WHERE id = $1", [f.chipID])
    }

    // A new chip is not WORKING yet: nothing is claimed.
    guard case .lookAgain = try await claim() else { throw Failure("a chip that is not WORKING claimed") }
    #expect(try await sending().isEmpty)

    try await f.store.recordChipStatus(id: f.chipID, status: .working)
    // The first claim settles (it opens the credit account), with the state read beside it.
    guard case .message(let first, let state) = try await claim() else { throw Failure("no first claim") }
    #expect(first.text == "rendered")
    #expect(state.campaign.template == "oi {{nome}}" && state.campaign.generation == f.generation)
    #expect(state.campaign.status == .running && state.campaign.tenantID == f.tenantID)
    #expect(state.chip.status == .working && !state.chip.readOnly && state.chip.session == "s-\(f.tenant)")
    #expect(state.chip.wahaUrl == "http://waha.example.invalid" && state.inFlight == nil)

    // In flight: the next claim leaves it to the sender to look, and claims nothing more.
    guard case .lookAgain = try await claim() else { throw Failure("claimed past a message in flight") }
    #expect(try await sending() == [first.id])
    try await f.store.recordSent(
      messageID: first.id, owner: "run", campaignID: f.campaignID, chipID: f.chipID, wahaMessageID: nil,
      chatID: "5511986000000@c.us")

    // Sent: the next claim is the one statement, still with the state.
    guard case .message(let second, let again) = try await claim() else { throw Failure("no second claim") }
    #expect(second.id > first.id && second.text == "rendered" && again.chip.status == .working)
    try await f.store.recordSent(
      messageID: second.id, owner: "run", campaignID: f.campaignID, chipID: f.chipID, wahaMessageID: nil,
      chatID: "5511986000001@c.us")

    // Read-only over the plan's chip limit, or stopped: nothing claimed.
    try await setChip("read_only_since = now()")
    guard case .lookAgain = try await claim() else { throw Failure("a read-only chip claimed") }
    try await setChip("read_only_since = NULL")
    try await setChip("status = 'STOPPED'")
    guard case .lookAgain = try await claim() else { throw Failure("a STOPPED chip claimed") }
    try await setChip("status = 'WORKING'")
    #expect(try await sending().isEmpty)

    // A chip that left the campaign claims nothing; a paused campaign stops its senders.
    _ = try await f.pool.query(
      "DELETE FROM campaign_chips WHERE campaign_id = $1 AND chip_id = $2", [f.campaignID, f.chipID])
    guard case .lookAgain = try await claim() else { throw Failure("a chip no longer in the campaign claimed") }
    _ = try await f.pool.query(
      "INSERT INTO campaign_chips (tenant_id, campaign_id, chip_id) VALUES ($3, $1, $2)",
      [f.campaignID, f.chipID, f.tenantID])
    guard case .message(let third, _) = try await claim() else { throw Failure("no claim once back") }
    try await f.store.releaseMessage(messageID: third.id, owner: "run", reason: nil)
    _ = try await f.pool.query(
      "UPDATE campaigns SET status = 'paused', pause_reason = 'manual' WHERE id = $1", [f.campaignID])
    guard case .none(.stopped) = try await claim() else { throw Failure("a paused campaign's sender went on") }
    #expect(try await sending().isEmpty)
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
  }
}
