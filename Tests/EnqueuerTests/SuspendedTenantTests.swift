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

/// A tenant suspended for non-payment is read-only over the API: it reads everything and reaches
/// its subscription, and anything that would send or change is 403 saying why and what to do.
@Suite struct SuspendedTenantTests {
  @Test func aSuspendedTenantReadsAndReachesItsBillingButChangesNothing() async throws {
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: "enterprise", "suspended")
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let key = try await store.createAPIKey(tenant: tenant).key
    let serviceKey = try await store.createAPIKey(tenant: nil).key
    try await pool.query("UPDATE tenants SET status = 'suspended' WHERE name = $1", [tenant])

    try await withInProcessEnqueuer { client in
      for uri in ["/v1/chips", "/v1/campaigns", "/v1/credits", "/v1/events", "/v1/opt-outs"] {
        let (status, body, _) = try await callAPI(client, .get, uri, key: key)
        #expect(status == .ok, "GET \(uri): \(status) \(body)")
      }
      // Its billing answers (no subscription yet: 404 from the route, not the suspension's 403).
      let (billing, subscription, _) = try await callAPI(client, .get, "/v1/subscription", key: key)
      #expect(billing != .forbidden, "\(subscription)")

      for (method, uri, json) in [
        (HTTPRequest.Method.post, "/v1/chips", #"{"name": "x", "waha_url": "https://waha.example", "session": "s"}"#),
        (.post, "/v1/opt-outs", #"{"phone": "+5511900000001"}"#),
        (.post, "/v1/jobs", #"{"type": "diag.noop"}"#), (.delete, "/v1/chips/1", nil),
      ] {
        let (status, problem, _) = try await callAPI(client, method, uri, key: key, json: json)
        #expect(status == .forbidden && problem["type"] as? String == "https://whago.dev/problems/tenant-suspended")
        #expect((problem["detail"] as? String)?.contains("read-only") == true, "\(method) \(uri): \(problem)")
      }
      // The same for WHAGO's backend acting for the tenant.
      #expect(try await callAPI(client, .get, "/v1/chips", key: serviceKey, tenant: tenant).0 == .ok)
      let (asService, _, _) = try await callAPI(
        client, .post, "/v1/opt-outs", key: serviceKey, tenant: tenant, json: #"{"phone": "+5511900000001"}"#)
      #expect(asService == .forbidden)
    }
    #expect(
      try await store.optOuts(
        tenantID: try #require(try await store.tenantAccess(named: tenant)).tenant.id, after: 0, limit: 10
      ).isEmpty)
  }
}
