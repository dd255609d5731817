import Foundation
import RedisClient
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

    /// Tried before this rule: a chip at 127.0.0.1 and one at 169.254.169.254 were both created,
    /// and workers then sent them requests with headers the tenant chose. Only the network the
    /// operator allows (here 10.0.0.0/8) may be named; a host name waits for the workers' check.
    @Test func aChipCannotPointWorkersAtOurOwnNetwork() async throws {
      try await EnqueuerFixture.with(environment: ["WHAGO_OUTBOUND_ALLOW": "10.0.0.0/8"]) { f in
        var n = 0
        func register(_ url: String) async throws -> HTTP.Reply {
          n += 1
          return try await f.post(
            "/v1/chips", key: f.serviceKey, tenant: f.tenant,
            json: ["name": "c\(n)", "waha_url": url, "session": "s\(f.tenant)-\(n)"])
        }
        for url in [
          "http://169.254.169.254", "http://127.0.0.1:6379", "http://localhost:3000", "https://192.168.0.10:3000",
          "http://0.0.0.0:3000",
        ] {
          let refused = try await register(url)
          #expect(refused.status == 422, "\(url): \(refused.text)")
          #expect(refused.problem.pointers == ["/waha_url"], "\(url)")
          #expect(refused.problem.detail.contains("WHAGO_OUTBOUND_ALLOW"), "\(url): \(refused.problem.detail)")
        }
        #expect(try await register("http://10.20.30.40:3100").status == 201)
        #expect(try await register("https://waha.example.invalid").status == 201)
      }
      // A list that does not read stops serve at start, with what to write instead.
      let (status, output) = try await Whago.run(
        ["serve", "--port", "0"], redis: try TestRedis.url.description,
        environment: ["WHAGO_OUTBOUND_ALLOW": "10.0.0.0/8,intranet", "WHAGO_DATABASE_URL": try TestDatabase.urlText])
      #expect(status != 0)
      #expect(output.contains("WHAGO_OUTBOUND_ALLOW") && output.contains("'intranet'"), "\(output)")
    }
  }
}
