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

/// `/v1/contacts/{phone}` in process against the real PostgreSQL: a data subject's number is
/// exported whole, then erased everywhere the tenant holds it, and is never messaged again.
@Suite struct ContactRoutesTests {
  struct Row: Decodable, Equatable {
    var phone: String?
    var vars: String
    var rendered: String?
    var state: String
    var error: String?
  }

  static func rows(_ pool: PostgresPool, campaign: Int64) async throws -> [Row] {
    try await pool.query(
      "SELECT phone, vars::text AS vars, rendered, state, error FROM campaign_messages WHERE campaign_id = $1 ORDER BY id",
      [campaign]
    ).decode(Row.self)
  }

  @Test func aNumberIsExportedWholeThenErasedAndNeverMessagedAgain() async throws {
    try await TestDatabase.migrate()
    let (a, b) = (
      try await TestDatabase.tenant(plan: "enterprise", "contact-a"),
      try await TestDatabase.tenant(plan: "enterprise", "contact-b")
    )
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let (aKey, bKey) = (try await store.createAPIKey(tenant: a).key, try await store.createAPIKey(tenant: b).key)
    let access = try #require(try await store.tenantAccess(named: a))
    let subject = "+5511977776666"
    let other = "+5511977775555"
    let unsent = "+5511977774444"
    // A campaign that sent to the number, one still pending to it, and the other tenant's.
    let (sent, chip) = try await CampaignResultTests.campaign(store, tenant: a, phones: [subject, other])
    try await pool.query(
      """
      UPDATE campaign_messages SET vars = '{"nome": "Ana"}', rendered = 'Oi Ana', state = 'delivered',
        sent_at = now(), delivered_at = now(), chat_id = '5511977776666@c.us'
      WHERE campaign_id = $1 AND phone = $2
      """, [sent, subject])
    let (pending, _) = try await CampaignResultTests.campaign(store, tenant: a, phones: [subject, unsent], chip: chip)
    let (theirs, _) = try await CampaignResultTests.campaign(store, tenant: b, phones: [subject])
    _ = try await store.addOptOuts(
      tenantID: access.tenant.id, [OptOutEntry(phone: subject, reason: "pediu")], source: .api)

    try await withInProcessEnqueuer { client in
      // Asked in the national format: everything held, and only this tenant's.
      let (status, record, _) = try await callAPI(client, .get, "/v1/contacts/(11)%2097777-6666", key: aKey)
      #expect(status == .ok, "\(record)")
      #expect(record["phone"] as? String == subject && record["erased"] as? Bool == false)
      #expect((record["opt_out"] as? [String: Any])?["reason"] as? String == "pediu")
      let messages = try #require(record["messages"] as? [[String: Any]])
      #expect(messages.count == 2)
      #expect(messages.first?["rendered"] as? String == "Oi Ana")
      #expect((messages.first?["vars"] as? [String: Any])?["nome"] as? String == "Ana")
      #expect(messages.first?["chat_id"] as? String == "5511977776666@c.us")
      let (_, theirView, _) = try await callAPI(client, .get, "/v1/contacts/\(subject)", key: bKey)
      #expect((theirView["messages"] as? [Any])?.count == 1, "the other tenant sees only its own")

      let (erasedStatus, erasure, _) = try await callAPI(client, .delete, "/v1/contacts/\(subject)", key: aKey)
      #expect(erasedStatus == .ok, "\(erasure)")
      // Its pending message had been skipped for the opt-out already.
      #expect(erasure["messages_erased"] as? Int == 2 && erasure["messages_skipped"] as? Int == 0)
      #expect(erasure["messages_in_flight"] as? Int == 0 && erasure["opt_out_removed"] as? Bool == true)

      // Nothing of it is left but the hash: the rows keep their states, not the number.
      #expect(
        try await Self.rows(pool, campaign: sent) == [
          Row(phone: nil, vars: "{}", rendered: nil, state: "delivered", error: nil),
          Row(phone: other, vars: "{}", rendered: nil, state: "pending", error: nil),
        ])
      #expect(
        try await Self.rows(pool, campaign: pending) == [
          Row(phone: nil, vars: "{}", rendered: nil, state: "skipped", error: "opted out"),
          Row(phone: unsent, vars: "{}", rendered: nil, state: "pending", error: nil),
        ])
      // A number not sent to yet: its message is skipped now, and never sent.
      let (_, unsentErasure, _) = try await callAPI(client, .delete, "/v1/contacts/\(unsent)", key: aKey)
      #expect(unsentErasure["messages_erased"] as? Int == 1 && unsentErasure["messages_skipped"] as? Int == 1)
      #expect(
        try await Self.rows(pool, campaign: pending).last
          == Row(phone: nil, vars: "{}", rendered: nil, state: "skipped", error: "erased at its owner's request"))
      #expect(try await Self.rows(pool, campaign: theirs).first?.phone == subject, "another tenant's data is theirs")
      let (_, after, _) = try await callAPI(client, .get, "/v1/contacts/\(subject)", key: aKey)
      #expect(after["erased"] as? Bool == true && (after["messages"] as? [Any])?.isEmpty == true)
      #expect(after["opt_out"] is NSNull)
      // Again: nothing more to erase, and no error.
      let (againStatus, again, _) = try await callAPI(client, .delete, "/v1/contacts/\(subject)", key: aKey)
      #expect(againStatus == .ok && again["messages_erased"] as? Int == 0)

      // Never messaged again: uploaded anew, it is skipped and not kept; a reply check sees it.
      _ = try await store.addRecipients(
        tenantID: access.tenant.id, campaignID: pending, recipients: [CampaignRecipient(phone: subject, variables: [:])]
      )
      #expect(try await Self.rows(pool, campaign: pending).allSatisfy { $0.phone == nil && $0.state == "skipped" })
      #expect(try await store.hasOptedOut(tenantID: access.tenant.id, phone: subject))

      let (bad, _, _) = try await callAPI(client, .get, "/v1/contacts/not-a-number", key: aKey)
      #expect(bad == .notFound)
    }
  }
}
