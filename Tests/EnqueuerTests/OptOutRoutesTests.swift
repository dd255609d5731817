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

/// `/v1/opt-outs`, in process, against the real PostgreSQL: added one at a time or from a CSV,
/// listed, removed, each with its source, and a pending message to the number skipped at once.
@Suite struct OptOutRoutesTests {
  @Test func optOutsAreAddedImportedListedAndRemovedWithTheirSource() async throws {
    try await TestDatabase.migrate()
    let (a, b) = (
      try await TestDatabase.tenant(plan: "enterprise", "optout-a"),
      try await TestDatabase.tenant(plan: "enterprise", "optout-b")
    )
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let (aKey, bKey) = (try await store.createAPIKey(tenant: a).key, try await store.createAPIKey(tenant: b).key)
    let serviceKey = try await store.createAPIKey(tenant: nil).key
    let phones = (1...4).map { "+551190000000\($0)" }
    let (running, _) = try await CampaignResultTests.campaign(store, tenant: a, phones: phones)
    let access = try #require(try await store.tenantAccess(named: a))
    _ = try await store.command(.start, campaignID: running, tenant: access)
    let (cancelled, _) = try await CampaignResultTests.campaign(store, tenant: a, phones: [phones[0]])
    _ = try await store.command(.cancel, campaignID: cancelled, tenant: access)
    let (theirs, _) = try await CampaignResultTests.campaign(store, tenant: b, phones: [phones[0]])

    try await withInProcessEnqueuer { client in
      // One, as the tenant writes it (national format): stored in E.164, source api.
      let (created, first, _) = try await callAPI(
        client, .post, "/v1/opt-outs", key: aKey, json: #"{"phone": "(11) 90000-0001", "reason": "pediu por e-mail"}"#)
      #expect(created == .created && first["phone"] as? String == phones[0] && first["source"] as? String == "api")
      #expect(first["reason"] as? String == "pediu por e-mail")
      // The running campaign's pending message is skipped now; the cancelled one's and the other
      // tenant's are left as they were.
      #expect(try await Self.states(pool, campaign: running)[phones[0]] == "skipped")
      #expect(try await Self.states(pool, campaign: running)[phones[1]] == "pending")
      #expect(try await Self.states(pool, campaign: cancelled)[phones[0]] == "pending")
      #expect(try await Self.states(pool, campaign: theirs)[phones[0]] == "pending")

      // Again: the first record stands.
      let (again, same, _) = try await callAPI(
        client, .post, "/v1/opt-outs", key: aKey, json: #"{"phone": "+5511900000001"}"#)
      #expect(again == .ok && same["id"] as? Int64 == first["id"] as? Int64 && same["reason"] as? String != nil)

      let (invalid, problem, _) = try await callAPI(
        client, .post, "/v1/opt-outs", key: aKey, json: #"{"phone": "12", "colour": "red"}"#)
      let errors = (problem["errors"] as? [[String: Any]])?.compactMap { $0["pointer"] as? String } ?? []
      #expect(invalid == .unprocessableContent && Set(errors) == ["/phone", "/colour"], "\(problem)")

      // An operator, with the service key for tenant a.
      let (byOperator, operatorRecord, _) = try await callAPI(
        client, .post, "/v1/opt-outs", key: serviceKey, tenant: a, json: #"{"phone": "+5511900000002"}"#)
      #expect(byOperator == .created && operatorRecord["source"] as? String == "operator")

      // A CSV import, as Excel writes it: every row accounted for.
      let csv =
        "\u{FEFF}phone;reason\r\n+5511900000003;respondeu no Instagram\r\nnão é número;x\r\n"
        + "+5511900000003;repetido\r\n+5511900000001;\r\n"
      let (imported, tally, _) = try await callAPI(client, .post, "/v1/opt-outs", key: aKey, csv: csv)
      #expect(imported == .ok && tally["added"] as? Int == 1 && tally["already"] as? Int == 1, "\(tally)")
      let rejected = (tally["rejected"] as? [[String: Any]])?.compactMap { $0["row"] as? Int }
      #expect(rejected == [2, 3], "\(tally)")
      let (noPhone, _, _) = try await callAPI(client, .post, "/v1/opt-outs", key: aKey, csv: "numero\n+5511900000004\n")
      #expect(noPhone == .unprocessableContent)

      // A refused value is never echoed whole: the answer stays small whatever the upload.
      let huge = String(repeating: "9", count: 80_000)
      let (cut, hugeTally, _) = try await callAPI(client, .post, "/v1/opt-outs", key: aKey, csv: "phone\n\(huge)\n")
      let echoed = try #require((hugeTally["rejected"] as? [[String: Any]])?.first?["phone"] as? String)
      #expect(
        cut == .ok && echoed == String(repeating: "9", count: 64) + "… (80000 characters, cut)", "\(echoed.count)")

      // Listed a page at a time, or by number; the other tenant sees none of them.
      let (_, page, _) = try await callAPI(client, .get, "/v1/opt-outs?limit=2", key: aKey)
      let listed = try #require(page["opt_outs"] as? [[String: Any]])
      #expect(listed.compactMap { $0["phone"] as? String } == [phones[0], phones[1]])
      let next = try #require(page["next"] as? String)
      let rest = try await callAPI(client, .get, "/v1/opt-outs?after=\(next)", key: aKey).1
      let last = (rest["opt_outs"] as? [[String: Any]])?.first
      #expect(last?["phone"] as? String == phones[2] && last?["reason"] as? String == "respondeu no Instagram")
      let one = try await callAPI(client, .get, "/v1/opt-outs?phone=5511900000002", key: aKey).1
      #expect((one["opt_outs"] as? [[String: Any]])?.map { $0["source"] as? String } == ["operator"])
      #expect((try await callAPI(client, .get, "/v1/opt-outs", key: bKey).1["opt_outs"] as? [Any])?.isEmpty == true)
      #expect(try await callAPI(client, .get, "/v1/opt-outs?phone=abc", key: aKey).0 == .badRequest)

      // Removed: the number may be messaged again; the other tenant cannot remove it.
      #expect(try await callAPI(client, .delete, "/v1/opt-outs/+5511900000003", key: bKey).0 == .notFound)
      #expect(try await callAPI(client, .delete, "/v1/opt-outs/+5511900000003", key: aKey).0 == .noContent)
      #expect(try await callAPI(client, .delete, "/v1/opt-outs/%2B5511900000003", key: aKey).0 == .notFound)
      #expect(try await callAPI(client, .delete, "/v1/opt-outs/%2B5511900000002", key: aKey).0 == .noContent)
      #expect(try await store.optOuts(tenantID: access.tenant.id, after: 0, limit: 10).map(\.phone) == [phones[0]])
    }
  }

  static func states(_ pool: PostgresPool, campaign: Int64) async throws -> [String: String] {
    var states: [String: String] = [:]
    for row in try await pool.query("SELECT phone, state FROM campaign_messages WHERE campaign_id = $1", [campaign])
      .rows
    {
      states[try row.decode("phone")] = try row.decode("state")
    }
    return states
  }
}
