import CampaignStore
import Enqueuer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Store
import TestSupport
import Testing
import Wire

/// `/v1/chips/{id}` and `/v1/credits`, in process, against the real PostgreSQL.
@Suite struct ChipAndCreditRoutesTests {
  @Test func aChipIsReadRenamedAndDeletedUnlessACampaignStillSendsThroughIt() async throws {
    try await TestDatabase.migrate()
    let (a, b) = (
      try await TestDatabase.tenant(plan: "enterprise", "chip-a"),
      try await TestDatabase.tenant(plan: "enterprise", "chip-b")
    )
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let (aKey, bKey) = (try await store.createAPIKey(tenant: a).key, try await store.createAPIKey(tenant: b).key)
    let access = try #require(try await store.tenantAccess(named: a))
    let (first, second) = (
      try await store.createChip(
        tenant: access, name: "um", wahaURL: "http://waha.example.invalid", session: "s1-\(a)", wahaAPIKey: nil),
      try await store.createChip(
        tenant: access, name: "dois", wahaURL: "http://waha.example.invalid", session: "s2-\(a)", wahaAPIKey: nil)
    )
    let campaign = try await store.createCampaign(
      tenantID: access.tenant.id, name: "c", template: "Oi", mediaURL: nil, chipIDs: [first.id], minIntervalMs: 0,
      maxIntervalMs: 0, startAt: nil, recipients: [])

    try await withInProcessEnqueuer { client in
      let (shown, chip, _) = try await WebhookEndpointTests.call(client, .get, "/v1/chips/\(first.id)", key: aKey)
      #expect(shown == .ok && chip["name"] as? String == "um" && chip["status"] as? String == "UNKNOWN")
      #expect(try await WebhookEndpointTests.call(client, .get, "/v1/chips/\(first.id)", key: bKey).0 == .notFound)
      #expect(try await WebhookEndpointTests.call(client, .get, "/v1/chips/0", key: aKey).0 == .notFound)

      let (renamed, body, _) = try await WebhookEndpointTests.call(
        client, .patch, "/v1/chips/\(first.id)", key: aKey, json: #"{"name": "primeiro"}"#)
      #expect(renamed == .ok && body["name"] as? String == "primeiro")
      let (taken, problem, _) = try await WebhookEndpointTests.call(
        client, .patch, "/v1/chips/\(first.id)", key: aKey, json: #"{"name": "dois"}"#)
      #expect(taken == .conflict && (problem["detail"] as? String)?.contains("dois") == true)
      #expect(
        try await WebhookEndpointTests.call(
          client, .patch, "/v1/chips/\(first.id)", key: aKey, json: #"{"colour": "red"}"#
        ).0 == .unprocessableContent)

      // The draft campaign sends through the first chip: it stays, and the answer names the campaign.
      let (inUse, refusal, _) = try await WebhookEndpointTests.call(client, .delete, "/v1/chips/\(first.id)", key: aKey)
      #expect(
        inUse == .conflict && (refusal["detail"] as? String)?.contains("campaign \(campaign)") == true, "\(refusal)")
      #expect(try await WebhookEndpointTests.call(client, .delete, "/v1/chips/\(second.id)", key: bKey).0 == .notFound)
      #expect(try await WebhookEndpointTests.call(client, .delete, "/v1/chips/\(second.id)", key: aKey).0 == .noContent)
      #expect(try await WebhookEndpointTests.call(client, .get, "/v1/chips/\(second.id)", key: aKey).0 == .notFound)
      // Cancelled, the campaign no longer holds the chip.
      _ = try await store.command(.cancel, campaignID: campaign, tenant: access)
      #expect(try await WebhookEndpointTests.call(client, .delete, "/v1/chips/\(first.id)", key: aKey).0 == .noContent)
    }
  }

  @Test func creditsShowTheBalanceAndTheLedgerAPageAtATime() async throws {
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: "enterprise")
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let key = try await store.createAPIKey(tenant: tenant).key
    for credits in [100, 250, 40] { _ = try await store.addCreditPack(tenant: tenant, credits: credits) }

    try await withInProcessEnqueuer { client in
      let (status, page, _) = try await WebhookEndpointTests.call(client, .get, "/v1/credits", key: key)
      #expect(status == .ok, "\(page)")
      let balance = try #require(page["balance"] as? [String: Any])
      #expect(balance["pack_credits_left"] as? Int == 390)
      #expect(balance.keys.contains("plan_credits_left") && balance.keys.contains("period_end"))
      let ledger = try #require(page["ledger"] as? [[String: Any]])
      #expect(ledger.map { $0["delta"] as? Int } == [100, 250, 40])
      #expect(ledger.allSatisfy { $0["reason"] as? String == "pack_purchase" && $0["bucket"] as? String == "pack" })

      var cursor = "0"
      var deltas: [Int] = []
      while true {
        let (_, next, _) = try await WebhookEndpointTests.call(
          client, .get, "/v1/credits?limit=2&after=\(cursor)", key: key)
        let entries = next["ledger"] as? [[String: Any]] ?? []
        if entries.isEmpty { break }
        deltas += entries.compactMap { $0["delta"] as? Int }
        cursor = try #require(next["next"] as? String)
      }
      #expect(deltas == [100, 250, 40])
      #expect(try await WebhookEndpointTests.call(client, .get, "/v1/credits?limit=5000", key: key).0 == .badRequest)
    }
  }
}
