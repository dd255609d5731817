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

/// The dashboard's Events page, in process: the newest events with their filters, and every
/// webhook endpoint with its health, behind the admin key.
@Suite struct DashboardEventsTests {
  @Test func theEventsPageShowsEventsAndEndpointHealthToAnAdminOnly() async throws {
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: "enterprise", "dashevents")
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let admin = try await store.createAPIKey(tenant: nil, admin: true).key
    let tenantKey = try await store.createAPIKey(tenant: tenant).key
    let tenantID = try #require(try await store.tenantAccess(named: tenant)).tenant.id
    _ = try await store.addCreditPack(tenant: tenant, credits: 77, reference: "order-\(tenant)")
    let (endpoint, _) = try await store.createWebhookEndpoint(
      tenantID: tenantID, url: "https://hooks.example.invalid/\(tenant)", events: [.creditsAdded])
    try await pool.query(
      "UPDATE webhook_endpoints SET failing_since = now() - interval '2 hours' WHERE id = $1", [endpoint.id])

    try await withInProcessEnqueuer { client in
      func page(_ uri: String, key: String?) async throws -> (HTTPResponse.Status, String) {
        var headers: HTTPFields = [:]
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await client.execute(uri: uri, method: .get, headers: headers) {
          ($0.status, String(buffer: $0.body))
        }
      }
      let (status, body) = try await page("/dashboard/events?tenant=\(tenant)", key: admin)
      #expect(status == .ok)
      #expect(body.contains("credits.added") && body.contains("order-\(tenant)"), "\(body.prefix(2000))")
      #expect(body.contains("https://hooks.example.invalid/\(tenant)") && body.contains("failing since"))
      #expect(body.contains(#"<a href="/dashboard/events">Events</a>"#))

      // Filtered to another type: none of the tenant's.
      let (_, chipsOnly) = try await page("/dashboard/events?tenant=\(tenant)&type=chip.working", key: admin)
      #expect(chipsOnly.contains("No event matches.") && !chipsOnly.contains("order-\(tenant)"))
      // What is typed into the filter comes back escaped.
      let (_, escaped) = try await page("/dashboard/events?tenant=%3Cb%3Ex", key: admin)
      #expect(escaped.contains("value=\"&lt;b&gt;x\"") && !escaped.contains("<b>x"))

      // Without the admin key (none, or a tenant's): the login form, never the events.
      for key in [nil, tenantKey] {
        let (refused, text) = try await page("/dashboard/events", key: key)
        #expect(refused != .ok || !text.contains("credits.added"), "\(refused)")
        #expect(!text.contains("order-\(tenant)"))
      }
    }
  }
}
