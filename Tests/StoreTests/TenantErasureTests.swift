import CampaignStore
import Foundation
import Postgres
import RedisClient
import Store
import TestSupport
import Testing

/// `whago tenant erase` and `whago contact export`, run as an operator would: a departed
/// tenant's personal data goes, what the law keeps stays, and nothing changes without --yes.
@Suite struct TenantErasureTests {
  @Test func aDepartedTenantsPersonalDataGoesAndItsBillingStays() async throws {
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: "enterprise", "erase-me")
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let key = try await store.createAPIKey(tenant: tenant).key
    let access = try #require(try await store.tenantAccess(named: tenant))
    let chip = try await store.createChip(
      tenant: access, name: "vendas", wahaURL: "http://waha.example.invalid", session: "s-\(tenant)",
      wahaAPIKey: "waha-secret")
    let campaign = try await store.createCampaign(
      tenantID: access.tenant.id, name: "black friday", template: "Oi {{nome}}", mediaURL: nil, chipIDs: [chip.id],
      minIntervalMs: 0, maxIntervalMs: 0, startAt: nil,
      recipients: [
        CampaignRecipient(phone: "+5511966665555", variables: ["nome": "Ana"]),
        CampaignRecipient(phone: "+5511966664444", variables: ["nome": "Bia"]),
      ])
    _ = try await store.addOptOuts(
      tenantID: access.tenant.id, [OptOutEntry(phone: "+5511966663333", reason: nil)], source: .api)
    try await pool.query(
      "INSERT INTO credit_ledger (tenant_id, delta, bucket, reason) VALUES ($1, 100, 'plan', 'adjustment')",
      [access.tenant.id])

    // Exported first, as JSON, in either spelling.
    let exported = try await TestDatabase.whago(["contact", "export", tenant, "(11) 96666-5555"])
    let record = try #require(try JSONSerialization.jsonObject(with: Data(exported.utf8)) as? [String: Any])
    #expect((record["messages"] as? [[String: Any]])?.first?["campaign_name"] as? String == "black friday")

    // Without --yes nothing changes.
    let refused = try await Whago.run(
      ["tenant", "erase", tenant], redis: try TestRedis.url.description,
      environment: ["WHAGO_DATABASE_URL": try TestDatabase.urlText])
    #expect(refused.status != 0 && refused.output.contains("--yes"))
    #expect(try await store.authenticate(key: key) != nil)

    let output = try await TestDatabase.whago(["tenant", "erase", tenant, "--yes"])
    let erasure = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
    #expect(erasure["campaigns_cancelled"] as? Int == 1 && erasure["messages_erased"] as? Int == 2)
    #expect(erasure["opt_outs_removed"] as? Int == 1 && erasure["api_keys_revoked"] as? Int == 1)
    #expect(erasure["chip_keys_removed"] as? Int == 1)

    let left = try await pool.query(
      "SELECT count(*) FILTER (WHERE phone IS NOT NULL OR vars <> '{}')::int AS personal, count(*)::int AS total FROM campaign_messages WHERE campaign_id = $1",
      [campaign]
    ).rows[0]
    #expect(try left.decode("personal", as: Int.self) == 0 && left.decode("total", as: Int.self) == 2)
    #expect(try await store.authenticate(key: key) == nil, "its keys no longer open anything")
    let kept = try await pool.query(
      """
      SELECT (SELECT count(*)::int FROM credit_ledger WHERE tenant_id = t.id) AS ledger,
             (SELECT count(*)::int FROM opt_outs WHERE tenant_id = t.id) AS opt_outs,
             (SELECT status FROM campaigns WHERE id = $2) AS status, t.erased_at IS NOT NULL AS erased
      FROM tenants t WHERE t.name = $1
      """, [tenant, campaign]
    ).rows[0]
    #expect(try kept.decode("ledger", as: Int.self) >= 1, "the credit ledger is the law's to keep")
    #expect(try kept.decode("opt_outs", as: Int.self) == 0)
    #expect(try kept.decode("status", as: String.self) == "cancelled")
    #expect(try kept.decode("erased", as: Bool.self))

    // Again: nothing more, no error.
    let again = try #require(
      try JSONSerialization.jsonObject(
        with: Data(try await TestDatabase.whago(["tenant", "erase", tenant, "--yes"]).utf8))
        as? [String: Any])
    #expect(again["messages_erased"] as? Int == 0 && again["api_keys_revoked"] as? Int == 0)
  }
}
