import Foundation
import Postgres
import TestSupport
import Testing

extension EnqueuerSuite {
  /// Creating campaigns: every recipient row is accepted or reported with its reason, the plan's
  /// pace and scheduling rules hold, opt-outs are skipped, and counts are read back per tenant.
  @Suite struct CampaignTests {
    @Test func aCampaignIsCreatedWithEveryRowAccountedFor() async throws {
      try await EnqueuerFixture.with(plan: "business") { f in
        var chipIDs: [Int] = []
        for name in ["a", "b"] {
          let chip = try await f.post(
            "/v1/chips", key: f.serviceKey, tenant: f.tenant,
            json: ["name": name, "waha_url": "http://127.0.0.1:3999", "session": "\(f.tenant)-\(name)"])
          chipIDs.append(try #require(try chip.json()["id"] as? Int))
        }
        // Someone who already asked this tenant to stop.
        let pool = try TestDatabase.pool(size: 1)
        defer { pool.close() }
        try await pool.query(
          "INSERT INTO opt_outs (tenant_id, phone, source) SELECT id, '+5511977776666', 'api' FROM tenants WHERE name = $1",
          [f.tenant])

        let created = try await f.post(
          "/v1/campaigns", key: f.serviceKey, tenant: f.tenant,
          json: [
            "name": "Black Friday", "template": "Oi {{nome}}, {{oferta}} só hoje!", "chip_ids": chipIDs,
            "recipients": [
              ["phone": "(11) 98888-7777", "vars": ["nome": "Ana", "oferta": "20%"]],
              ["phone": "+55 11 97777-6666", "vars": ["nome": "Bia", "oferta": "30%"]],
              ["phone": "11988887777", "vars": ["nome": "Ana de novo", "oferta": "20%"]],
              ["phone": "123", "vars": ["nome": "X", "oferta": "1%"]],
              ["phone": "21 99999-0000", "vars": ["nome": "Caio"]],
            ],
          ])
        #expect(created.status == 201, "\(created.text)")
        let body = try created.json()
        let id = try #require(body["id"] as? Int)
        let tally = try #require(body["recipients"] as? [String: Any])
        #expect(tally["accepted"] as? Int == 2)
        let rejected = try #require(tally["rejected"] as? [[String: Any]])
        #expect(rejected.map { $0["row"] as? Int } == [3, 4, 5])
        #expect((rejected[0]["reason"] as? String)?.contains("duplicate of row 1") == true, "\(rejected)")
        #expect((rejected[2]["reason"] as? String)?.contains("oferta") == true, "\(rejected)")

        let shown = try await f.get("/v1/campaigns/\(id)", key: f.serviceKey, tenant: f.tenant)
        #expect(shown.status == 200)
        let campaign = try shown.json()
        #expect(campaign["status"] as? String == "draft")
        #expect(campaign["chip_ids"] as? [Int] == chipIDs.sorted())
        #expect((campaign["pace"] as? [String: Int])?["min_interval_ms"] == 30_000)
        let counts = try #require(campaign["counts"] as? [String: Int])
        #expect(counts["total"] == 2 && counts["pending"] == 1 && counts["skipped"] == 1, "\(counts)")

        // More recipients as a CSV upload, as Brazilian Excel writes it; a repeat is reported.
        let csv = "phone;nome;oferta\r\n(11) 96666-5555;Davi;10%\r\n11 98888-7777;Ana;20%\r\n"
        let added = try await HTTP.send(
          "POST", f.url("/v1/campaigns/\(id)/recipients"),
          headers: ["Authorization": "Bearer \(f.serviceKey)", "Whago-Tenant": f.tenant, "Content-Type": "text/csv"],
          body: Data(csv.utf8))
        #expect(added.status == 200, "\(added.text)")
        let addedTally = try #require(try added.json()["recipients"] as? [String: Any])
        #expect(addedTally["accepted"] as? Int == 1)
        #expect((addedTally["rejected"] as? [[String: Any]])?.first?["row"] as? Int == 2)

        // Another tenant: not found, as if it did not exist.
        let other = try await TestDatabase.tenant(plan: "business")
        #expect(try await f.get("/v1/campaigns/\(id)", key: f.serviceKey, tenant: other).status == 404)
      }
    }

    @Test func planRulesForPaceSchedulingAndChips() async throws {
      try await EnqueuerFixture.with(plan: "free") { f in
        let chip = try await f.post(
          "/v1/chips", key: f.serviceKey, tenant: f.tenant,
          json: ["name": "a", "waha_url": "http://127.0.0.1:3998", "session": "\(f.tenant)-a"])
        let chipID = try #require(try chip.json()["id"] as? Int)
        let base: [String: Any] = ["name": "c", "template": "Oi", "chip_ids": [chipID]]
        func create(_ extra: [String: Any]) async throws -> HTTP.Reply {
          try await f.post(
            "/v1/campaigns", key: f.serviceKey, tenant: f.tenant, json: base.merging(extra) { $1 })
        }
        // Free: at least 10 s between two messages of a chip, and no scheduling.
        let fast = try await create(["pace": ["min_interval_ms": 1_000, "max_interval_ms": 2_000]])
        #expect(fast.status == 422 && fast.problem.pointers == ["/pace/min_interval_ms"], "\(fast.text)")
        let inAMonth = try await TestDatabase.now().addingTimeInterval(30 * 86_400)
        let later = try await create(["start_at": ISO8601DateFormatter().string(from: inAMonth)])
        #expect(later.status == 422 && later.problem.pointers == ["/start_at"])
        #expect(later.problem.detail.contains("scheduled campaigns"), "\(later.text)")
        let foreign = try await create(["chip_ids": [chipID, 999_999_999]])
        #expect(foreign.status == 422 && foreign.problem.detail.contains("999999999"))
        let hole = try await create(["template": "Oi {{nome"])
        #expect(hole.status == 422 && hole.problem.pointers == ["/template"])
        let ok = try await create(["pace": ["min_interval_ms": 10_000, "max_interval_ms": 20_000]])
        #expect(ok.status == 201, "\(ok.text)")
      }
    }
  }
}
