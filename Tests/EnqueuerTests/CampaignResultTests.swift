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

/// `GET /v1/campaigns`, `/v1/campaigns/{id}/messages` and `/v1/campaigns/{id}/report.csv`, in
/// process, against the real PostgreSQL. Outcomes are written straight into `campaign_messages`,
/// as the sender and WAHA's acks would leave them.
@Suite struct CampaignResultTests {
  @Test func campaignsAreListedFilteredAndPagedPerTenant() async throws {
    try await TestDatabase.migrate()
    let (a, b) = (
      try await TestDatabase.tenant(plan: "enterprise", "results-a"),
      try await TestDatabase.tenant(plan: "enterprise", "results-b")
    )
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let (aKey, bKey) = (try await store.createAPIKey(tenant: a).key, try await store.createAPIKey(tenant: b).key)
    let (first, chip) = try await Self.campaign(store, tenant: a, phones: ["+5511900000001"])
    let (second, _) = try await Self.campaign(store, tenant: a, phones: [], chip: chip)
    _ = try await Self.campaign(store, tenant: b, phones: [])
    let access = try #require(try await store.tenantAccess(named: a))
    _ = try await store.command(.cancel, campaignID: second, tenant: access)

    try await withInProcessEnqueuer { client in
      let (status, page, _) = try await WebhookEndpointTests.call(client, .get, "/v1/campaigns", key: aKey)
      let listed = try #require(page["campaigns"] as? [[String: Any]], "\(status) \(page)")
      #expect(listed.compactMap { $0["id"] as? Int64 } == [first, second])
      #expect(listed.first?["chip_ids"] as? [Int64] == [chip])
      #expect((listed.first?["counts"] as? [String: Any])?["total"] as? Int == 1)

      let cancelled = try await WebhookEndpointTests.call(client, .get, "/v1/campaigns?status=cancelled", key: aKey).1
      #expect((cancelled["campaigns"] as? [[String: Any]])?.compactMap { $0["id"] as? Int64 } == [second])
      let twoKinds = try await WebhookEndpointTests.call(
        client, .get, "/v1/campaigns?status=draft,running", key: aKey
      ).1
      #expect((twoKinds["campaigns"] as? [[String: Any]])?.compactMap { $0["id"] as? Int64 } == [first])

      // One at a time: `next` leads to the second, then to an empty page that keeps the cursor.
      let one = try await WebhookEndpointTests.call(client, .get, "/v1/campaigns?limit=1", key: aKey).1
      #expect((one["campaigns"] as? [Any])?.count == 1 && one["next"] as? String == String(first))
      let two = try await WebhookEndpointTests.call(client, .get, "/v1/campaigns?limit=1&after=\(first)", key: aKey).1
      #expect((two["campaigns"] as? [[String: Any]])?.first?["id"] as? Int64 == second)
      let none = try await WebhookEndpointTests.call(client, .get, "/v1/campaigns?after=\(second)", key: aKey).1
      #expect((none["campaigns"] as? [Any])?.isEmpty == true && none["next"] as? String == String(second))

      // Created dates bound the list: both were created before an hour from the database's now.
      let now = try await Self.databaseNow(pool)
      let later = WireJSON.time(now.addingTimeInterval(3600))
      let before = try await WebhookEndpointTests.call(
        client, .get, "/v1/campaigns?created_before=\(later)", key: aKey
      ).1
      #expect((before["campaigns"] as? [Any])?.count == 2)
      let after = try await WebhookEndpointTests.call(client, .get, "/v1/campaigns?created_from=\(later)", key: aKey).1
      #expect((after["campaigns"] as? [Any])?.isEmpty == true)

      // The other tenant sees only its own.
      let theirs = try await WebhookEndpointTests.call(client, .get, "/v1/campaigns", key: bKey).1
      #expect(
        (theirs["campaigns"] as? [[String: Any]])?.contains { [first, second].contains($0["id"] as? Int64) } == false)

      for (query, detail) in [
        ("status=sleeping", "unknown status"), ("created_from=yesterday", "created_from must be"),
        ("limit=5000", "limit must be"),
      ] {
        let (refused, problem, _) = try await WebhookEndpointTests.call(
          client, .get, "/v1/campaigns?\(query)", key: aKey)
        #expect(refused == .badRequest && (problem["detail"] as? String)?.contains(detail) == true, "\(problem)")
      }
    }
  }

  @Test func messagesShowEachRecipientsOutcomeAndTheCampaignItsRates() async throws {
    try await TestDatabase.migrate()
    let (a, b) = (
      try await TestDatabase.tenant(plan: "enterprise", "messages-a"),
      try await TestDatabase.tenant(plan: "enterprise", "messages-b")
    )
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let (aKey, bKey) = (try await store.createAPIKey(tenant: a).key, try await store.createAPIKey(tenant: b).key)
    let phones = (1...5).map { "+551190000000\($0)" }
    let (id, _) = try await Self.campaign(store, tenant: a, phones: phones)
    try await Self.settle(pool, campaign: id)

    try await withInProcessEnqueuer { client in
      let (_, campaign, _) = try await WebhookEndpointTests.call(client, .get, "/v1/campaigns/\(id)", key: aKey)
      // Sent 3 (one sent, one delivered, one read): delivered 2 of 3, read 1 of 3.
      #expect(
        campaign["delivery_rate"] as? Double == 0.6667 && campaign["read_rate"] as? Double == 0.3333, "\(campaign)")

      let (status, page, _) = try await WebhookEndpointTests.call(
        client, .get, "/v1/campaigns/\(id)/messages?state=failed,skipped", key: aKey)
      let rows = try #require(page["messages"] as? [[String: Any]], "\(status) \(page)")
      #expect(rows.compactMap { $0["phone"] as? String } == [phones[3], phones[4]])
      #expect(rows.compactMap { $0["reason"] as? String } == ["number not on WhatsApp", "opted out"])
      #expect(rows.first?["failed_at"] as? String != nil && rows.first?["waha_message_id"] is NSNull)

      let all = try await WebhookEndpointTests.call(client, .get, "/v1/campaigns/\(id)/messages?limit=2", key: aKey).1
      let firstTwo = try #require(all["messages"] as? [[String: Any]])
      #expect(firstTwo.compactMap { $0["state"] as? String } == ["sent", "delivered"])
      #expect(firstTwo[1]["waha_message_id"] as? String == "3EB0AA02" && firstTwo[1]["attempts"] as? Int == 1)
      let cursor = try #require(all["next"] as? String)
      let rest = try await WebhookEndpointTests.call(
        client, .get, "/v1/campaigns/\(id)/messages?after=\(cursor)", key: aKey
      ).1
      #expect(
        (rest["messages"] as? [[String: Any]])?.compactMap { $0["state"] as? String } == ["read", "failed", "skipped"])

      #expect(
        try await WebhookEndpointTests.call(client, .get, "/v1/campaigns/\(id)/messages", key: bKey).0 == .notFound)
      let (refused, problem, _) = try await WebhookEndpointTests.call(
        client, .get, "/v1/campaigns/\(id)/messages?state=lost", key: aKey)
      #expect(refused == .badRequest && (problem["detail"] as? String)?.contains("pending, sending") == true)
    }
  }

  @Test func theReportIsACSVForBrazilianExcelStreamedInBatches() async throws {
    try await TestDatabase.migrate()
    let (a, b) = (
      try await TestDatabase.tenant(plan: "enterprise", "report-a"),
      try await TestDatabase.tenant(plan: "enterprise", "report-b")
    )
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let (aKey, bKey) = (try await store.createAPIKey(tenant: a).key, try await store.createAPIKey(tenant: b).key)
    let (id, _) = try await Self.campaign(store, tenant: a, phones: (1...5).map { "+551190000000\($0)" })
    try await Self.settle(pool, campaign: id)
    // 2,500 more, past two batches of 1,000; and a refusal that reads like a formula and holds a `;`.
    try await pool.query(
      """
      INSERT INTO campaign_messages (campaign_id, phone)
      SELECT $1, '+5521' || (900000000 + n)::text FROM generate_series(1, 2500) AS n
      """, [id])
    try await pool.query(
      """
      UPDATE campaign_messages SET state = 'failed', failed_at = now(), error = '=HYPERLINK("x"); WAHA said no'
      WHERE campaign_id = $1 AND phone = '+5521900000001'
      """, [id])

    try await withInProcessEnqueuer { client in
      let (status, headers, body) = try await client.execute(
        uri: "/v1/campaigns/\(id)/report.csv", method: .get, headers: [.authorization: "Bearer \(aKey)"]
      ) { ($0.status, $0.headers, String(buffer: $0.body)) }
      #expect(status == .ok && headers[.contentType] == "text/csv; charset=utf-8")
      #expect(headers[.contentDisposition] == "attachment; filename=\"campaign-\(id).csv\"")
      #expect(body.hasPrefix("\u{FEFF}id;phone;state;attempts;chip_id;waha_message_id;reason;created_at;"))
      let lines = body.dropFirst().components(separatedBy: "\r\n")
      #expect(lines.count == 1 + 2505 + 1 && lines.last == "")
      let rows = lines.dropFirst().dropLast().map { $0.split(separator: ";", omittingEmptySubsequences: false) }
      let ids = rows.compactMap { Int64($0[0]) }
      #expect(ids.count == 2505 && ids == ids.sorted() && Set(ids).count == 2505)

      // The read message: phone as text, its times in São Paulo's time (UTC-3, no summer time since 2019).
      let read = try #require(rows.first { $0[2] == "read" })
      #expect(read[1] == "55 11 900000003")
      #expect(read[9] == "15/01/2026 09:34:56" && read[11] == "15/01/2026 10:00:00", "\(read)")
      let refused = try #require(lines.first { $0.contains("HYPERLINK") })
      #expect(refused.contains(#";"'=HYPERLINK(""x""); WAHA said no";"#), "\(refused)")

      let theirs = try await client.execute(
        uri: "/v1/campaigns/\(id)/report.csv", method: .get, headers: [.authorization: "Bearer \(bKey)"]
      ) { $0.status }
      #expect(theirs == .notFound)
    }
  }

  /// A draft campaign of `tenant` to `phones`, through `chip` or a new one.
  static func campaign(_ store: Store, tenant: String, phones: [String], chip: Int64? = nil) async throws -> (
    Int64, Int64
  ) {
    let access = try #require(try await store.tenantAccess(named: tenant))
    let chipID =
      if let chip { chip } else {
        try await store.createChip(
          tenant: access, name: "chip-\(UUID().uuidString.prefix(8))", wahaURL: "http://waha.example.invalid",
          session: "s-\(UUID().uuidString.prefix(8))", wahaAPIKey: nil
        ).id
      }
    let id = try await store.createCampaign(
      tenantID: access.tenant.id, name: "results", template: "Oi", mediaURL: nil, chipIDs: [chipID],
      minIntervalMs: 0, maxIntervalMs: 0, startAt: nil,
      recipients: phones.map { CampaignRecipient(phone: $0, variables: [:]) })
    return (id, chipID)
  }

  /// The first five recipients as a finished campaign leaves them: sent, delivered, read, failed
  /// and skipped, with times written as UTC literals (the report shows them in the tenant's zone).
  static func settle(_ pool: PostgresPool, campaign id: Int64) async throws {
    try await pool.query(
      """
      WITH ranked AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM campaign_messages WHERE campaign_id = $1)
      UPDATE campaign_messages m SET
        state = (ARRAY['sent', 'delivered', 'read', 'failed', 'skipped'])[r.n],
        attempts = CASE WHEN r.n <= 4 THEN 1 ELSE 0 END,
        waha_message_id = CASE WHEN r.n <= 3 THEN '3EB0AA0' || r.n END,
        sending_at = CASE WHEN r.n <= 4 THEN timestamptz '2026-01-15 12:34:50+00' END,
        sent_at = CASE WHEN r.n <= 3 THEN timestamptz '2026-01-15 12:34:56+00' END,
        delivered_at = CASE WHEN r.n IN (2, 3) THEN timestamptz '2026-01-15 12:50:00+00' END,
        read_at = CASE WHEN r.n = 3 THEN timestamptz '2026-01-15 13:00:00+00' END,
        failed_at = CASE WHEN r.n = 4 THEN timestamptz '2026-01-15 12:35:00+00' END,
        error = (ARRAY[NULL, NULL, NULL, 'number not on WhatsApp', 'opted out'])[r.n]
      FROM ranked r WHERE m.id = r.id AND r.n <= 5
      """, [id])
  }

  static func databaseNow(_ pool: PostgresPool) async throws -> Date {
    try await pool.query("SELECT now() AS now").first!.decode("now")
  }
}
