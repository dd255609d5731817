import Foundation
import JobQueue
import TestSupport
import Testing

extension EnqueuerSuite {
  @Suite struct AccessTests {
    @Test func keysThatAreMissingMalformedUnknownOrRevokedGet401() async throws {
      try await EnqueuerFixture.with(serveArguments: ["--auth-cache", "0s"]) { f in
        let job = ["type": "diag.noop"]
        let missing = try await HTTP.send("POST", f.url("/v1/jobs"), key: nil, json: job)
        #expect(missing.status == 401)
        #expect(missing.isProblem)
        #expect(missing.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect(try await HTTP.send("POST", f.url("/v1/jobs"), key: "nonsense", json: job).status == 401)
        let basic = try await HTTP.send(
          "POST", f.url("/v1/jobs"), key: nil, json: job, headers: ["Authorization": "Basic dXNlcjpwYXNz"])
        #expect(basic.status == 401)
        // Well formed, right prefix, wrong secret.
        let forged = String(f.tenantKey.prefix(18)) + String(repeating: "A", count: 32)
        #expect(try await HTTP.send("POST", f.url("/v1/jobs"), key: forged, json: job).status == 401)

        #expect(try await f.get("/v1/chips").status == 200)
        try await TestDatabase.whago(["apikey", "revoke", String(f.tenantKey.prefix(18))])
        let revoked = try await f.get("/v1/chips")
        #expect(revoked.status == 401)
        #expect(revoked.problem.type.hasSuffix("invalid-api-key"))
      }
    }

    @Test func serviceKeysActForTheNamedTenantOnly() async throws {
      try await EnqueuerFixture.with { f in
        let job = ["type": "diag.noop"]
        let noTenant = try await f.post("/v1/jobs", key: f.serviceKey, json: job)
        #expect(noTenant.status == 400)
        #expect(noTenant.problem.detail.contains("Whago-Tenant"))
        let unknown = try await f.post("/v1/jobs", key: f.serviceKey, tenant: "no-such-tenant-\(f.tenant)", json: job)
        #expect(unknown.status == 404)
        let ok = try await f.post("/v1/jobs", key: f.serviceKey, tenant: f.tenant, json: job)
        #expect(ok.status == 202)
        let id = try #require(try ok.json()["id"] as? String)
        #expect(try await TestRedis.broker().job(id: id).tenant == f.tenant)
        // A tenant key cannot borrow the header to act for someone else.
        let other = try await TestDatabase.tenant(plan: "enterprise")
        let borrowed = try await f.post("/v1/jobs", tenant: other, json: job)
        #expect(borrowed.status == 403)
      }
    }

    @Test func aTenantNeverSeesOrCancelsAnotherTenantsJobs() async throws {
      try await EnqueuerFixture.with { f in
        let mine = try await f.submit(json: ["type": "diag.noop", "delay_ms": 60_000])
        let id = try #require(try mine.json()["id"] as? String)

        let other = try await TestDatabase.tenant(plan: "enterprise")
        let otherKey = try await TestDatabase.apiKey(tenant: other)
        let missingID = "zzzzzzzzzzzzzz"
        for (method, path) in [("GET", "/v1/jobs/\(id)"), ("DELETE", "/v1/jobs/\(id)")] {
          let asOther = try await HTTP.send(method, f.url(path), key: otherKey)
          let asService = try await HTTP.send(method, f.url(path), key: f.serviceKey, tenant: other)
          let nonexistent = try await HTTP.send(method, f.url("/v1/jobs/\(missingID)"), key: otherKey)
          // The same answer as for an id that does not exist: nothing says the job is there.
          #expect(asOther.status == 404 && asService.status == 404 && nonexistent.status == 404)
          #expect(asOther.problem.type == nonexistent.problem.type)
        }
        // Still there, still scheduled: the other tenant's DELETE changed nothing.
        #expect(try await f.get("/v1/jobs/\(id)").json()["state"] as? String == "scheduled")
      }
    }

    @Test func plansDecideAPIAccessAndItsRate() async throws {
      // A free tenant's own key has no API access.
      let free = try await EnqueuerFixture.start(plan: "free")
      let refused = try await free.post("/v1/jobs", json: ["type": "diag.noop"])
      #expect(refused.status == 403)
      #expect(refused.problem.type.hasSuffix("no-api-access"))
      // WHAGO's backend still submits for that tenant with a service key.
      #expect(
        try await free.post("/v1/jobs", key: free.serviceKey, tenant: free.tenant, json: ["type": "diag.noop"]).status
          == 202)
      try await free.server.stop()

      // A plan allowing 3 requests an hour: the 4th is refused with Retry-After.
      let plan = TestDatabase.tenantName()
      try await TestDatabase.whago(["plan", "set", plan, "--from", "enterprise", "api_requests_per_hour=3"])
      try await EnqueuerFixture.with(plan: plan) { f in
        var statuses: [Int] = []
        var last: HTTP.Reply?
        for _ in 0..<5 {
          let reply = try await f.get("/v1/chips")
          statuses.append(reply.status)
          last = reply
        }
        #expect(statuses == [200, 200, 200, 429, 429])
        let retryAfter = try #require(last?.header("Retry-After").flatMap(Int.init))
        // One token per 1,200 s at 3 an hour.
        #expect(retryAfter > 1_000 && retryAfter <= 1_200)
        #expect(last?.problem.type.hasSuffix("rate-limited") == true)
      }
    }
  }
}
