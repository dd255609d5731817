import Foundation
import TestSupport
import Testing

extension EnqueuerSuite {
  @Suite struct ChipTests {
    @Test func chipsAreRegisteredWithinThePlanAndSeenOnlyByTheirTenant() async throws {
      // Business allows 3 chips; the tenant submits with a service key (business has no API for tenant keys).
      try await EnqueuerFixture.with(plan: "business") { f in
        let base = "http://127.0.0.1:3\(UInt16.random(in: 100...999))"
        func register(_ name: String, session: String, tenant: String? = nil) async throws -> HTTP.Reply {
          try await f.post(
            "/v1/chips", key: f.serviceKey, tenant: tenant ?? f.tenant,
            json: ["name": name, "waha_url": base, "session": session, "waha_api_key": "secret-\(name)"])
        }
        let first = try await register("vendas", session: "s\(f.tenant)a")
        #expect(first.status == 201, "\(first.text)")
        let chip = try first.json()
        #expect(chip["status"] as? String == "UNKNOWN" && chip["has_waha_api_key"] as? Bool == true)
        #expect(!first.text.contains("secret-vendas"))
        #expect(first.header("Location") == "/v1/chips/\(chip["id"] as? Int ?? -1)")

        let sameName = try await register("vendas", session: "s\(f.tenant)b")
        #expect(sameName.status == 409 && sameName.problem.type.hasSuffix("chip-exists"))
        let sameSession = try await register("outro", session: "s\(f.tenant)a")
        #expect(sameSession.status == 409)

        // Two more fit the plan's 3; registered at once, exactly as many as fit get in.
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
          for i in 0..<4 {
            group.addTask { try await register("chip\(i)", session: "s\(f.tenant)c\(i)").status }
          }
          return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { $0 == 201 }.count == 2, "\(results)")
        #expect(results.filter { $0 == 403 }.count == 2, "\(results)")

        let listed = try await f.get("/v1/chips", key: f.serviceKey, tenant: f.tenant)
        let chips = try #require(try listed.json()["chips"] as? [[String: Any]])
        #expect(chips.count == 3)
        #expect(!listed.text.contains("secret-"))

        // Another tenant sees none of them.
        let other = try await TestDatabase.tenant(plan: "business")
        let theirs = try await f.get("/v1/chips", key: f.serviceKey, tenant: other)
        #expect((try theirs.json()["chips"] as? [Any])?.isEmpty == true)

        let bad = try await f.post(
          "/v1/chips", key: f.serviceKey, tenant: f.tenant,
          json: ["name": "", "waha_url": "ftp://x", "session": "a b", "extra": 1])
        #expect(bad.status == 422)
        #expect(Set(bad.problem.pointers) == ["/name", "/waha_url", "/session", "/extra"])
        let control = try await f.post(
          "/v1/chips", key: f.serviceKey, tenant: f.tenant, json: ["name": "a\u{0}b", "waha_url": base, "session": "x"])
        #expect(control.status == 422 && control.problem.pointers == ["/name"])
      }
    }
  }
}
