import CampaignStore
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// The pre-send check keeps the chat id a run asked WAHA for, on its own message only, and
/// `recordSent` counts a send once, for the message's owner only.
@Suite struct SendCheckTests {
  @Test func theCheckKeepsTheChatIDOnlyForTheMessagesOwner() async throws {
    let f = try await EarlyAckTests.Fixture.start(recipients: 2)
    defer { f.pool.close() }
    let id = try await f.claim()
    let chat = "5511987000000@c.us"
    // Another run's check (the message was taken over) writes nothing and is told so.
    #expect(
      try await f.store.sendCheck(
        messageID: id, owner: "another", campaignID: f.campaignID, generation: f.generation, chatID: chat)
        == .notOwner)
    #expect(try await chatID(f, id) == nil)
    #expect(
      try await f.store.sendCheck(
        messageID: id, owner: "run", campaignID: f.campaignID, generation: f.generation, chatID: chat) == .send)
    #expect(try await chatID(f, id) == chat)
    // A check with nothing looked up leaves the kept one alone.
    #expect(
      try await f.store.sendCheck(messageID: id, owner: "run", campaignID: f.campaignID, generation: f.generation)
        == .send)
    #expect(try await chatID(f, id) == chat)
  }

  @Test func aSendIsCountedOnceAndOnlyByItsOwner() async throws {
    let f = try await EarlyAckTests.Fixture.start(recipients: 2)
    defer { f.pool.close() }
    let id = try await f.claim()
    let wahaID = "count-\(f.tenant)"
    let stranger = try await f.store.recordSent(
      messageID: id, owner: "another", campaignID: f.campaignID, chipID: f.chipID, wahaMessageID: wahaID,
      chatID: "5511987000000@c.us")
    #expect(stranger == nil)
    #expect(try await f.state(id).state == "sending")
    #expect(try await chipSent(f) == 0)
    #expect(
      try await f.store.recordSent(
        messageID: id, owner: "run", campaignID: f.campaignID, chipID: f.chipID, wahaMessageID: wahaID,
        chatID: "5511987000000@c.us") == 1)
    #expect(try await f.state(id).state == "sent")
    // Recorded again (a retry that found it sent): the count stays.
    #expect(
      try await f.store.recordSent(
        messageID: id, owner: "run", campaignID: f.campaignID, chipID: f.chipID, wahaMessageID: wahaID,
        chatID: "5511987000000@c.us") == 1)
    #expect(try await chipSent(f) == 1)
  }

  private func chatID(_ f: EarlyAckTests.Fixture, _ id: Int64) async throws -> String? {
    try await f.pool.query("SELECT chat_id FROM campaign_messages WHERE id = $1", [id])[0].decodeIfPresent("chat_id")
  }

  private func chipSent(_ f: EarlyAckTests.Fixture) async throws -> Int {
    try await f.pool.query(
      "SELECT sent FROM campaign_chips WHERE campaign_id = $1 AND chip_id = $2", [f.campaignID, f.chipID]
    )[0].decode("sent")
  }
}
