import BillingStore
import Enqueuer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Store
import TestSupport
import Testing

/// The dashboard's Billing page, in process: a tenant's subscription, credits and packs (a
/// charged-back one with what it took away and what had been spent), and, across tenants, the
/// subscriptions that need someone; only behind the admin key.
@Suite struct DashboardBillingTests {
  @Test func theBillingPageShowsSubscriptionsAndPurchasesToAnAdminOnly() async throws {
    try await TestDatabase.migrate()
    let tenant = try await TestDatabase.tenant(plan: "free", "dashbilling")
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let admin = try await store.createAPIKey(tenant: nil, admin: true).key
    let tenantKey = try await store.createAPIKey(tenant: tenant).key
    let tenantID = try #require(try await store.tenantAccess(named: tenant)).tenant.id
    let subscription = try await store.createSubscription(
      tenant: tenant, plan: "business", gateway: "stripe", customer: "cus_\(tenant)", paymentMethod: "pm_card_visa",
      periodEnd: nil)
    // Past due, as a declined renewal leaves it.
    try await pool.query("UPDATE subscriptions SET status = 'past_due' WHERE id = $1", [subscription.id])
    let (purchase, _) = try await store.createCreditPurchase(
      NewCreditPurchase(
        tenantID: tenantID, pack: "5k", gateway: "stripe", method: .card, customer: "cus_\(tenant)",
        paymentMethod: "pm_card_visa", requestKey: nil))
    _ = try await store.settleCreditPurchase(purchaseID: purchase.id, result: .succeeded(paymentID: "pi_\(tenant)"))
    try await pool.query(
      "UPDATE credit_packs SET credits_left = credits_left - 120 WHERE external_ref = $1", ["purchase-\(purchase.id)"])
    let reversed = try await store.reverseCreditPurchase(
      gateway: "stripe", gatewayPaymentID: "pi_\(tenant)", as: .chargedBack,
      delivery: GatewayDelivery(source: "stripe", eventID: "evt_\(tenant)", type: "charge.dispute.created"))
    #expect(reversed.outcome == .applied)

    try await withInProcessEnqueuer { client in
      func page(_ uri: String, key: String?) async throws -> (HTTPResponse.Status, String) {
        var headers: HTTPFields = [:]
        if let key { headers[.authorization] = "Bearer \(key)" }
        return try await client.execute(uri: uri, method: .get, headers: headers) {
          ($0.status, String(buffer: $0.body))
        }
      }
      let (status, body) = try await page("/dashboard/billing?tenant=\(tenant)", key: admin)
      #expect(status == .ok)
      #expect(body.contains("<dt>Status</dt><dd>past_due</dd>"), "\(body.prefix(3000))")
      #expect(body.contains("data-purchase-id=\"\(purchase.id)\""))
      #expect(body.contains("R$ 120,00") && body.contains("charged_back: 4880 removed, 120 spent before"))
      #expect(body.contains("packs: 0 left"))

      // Across tenants (other tests' too): past-due subscriptions, linked to their tenants' pages.
      let (_, overview) = try await page("/dashboard/billing", key: admin)
      #expect(overview.contains("id=\"trouble-table\"") && overview.contains("<td>past_due</td>"))
      #expect(overview.contains("<a href=\"/dashboard/billing?tenant="))
      #expect(overview.contains(#"<a href="/dashboard/billing">Billing</a>"#))

      // An unknown tenant, escaped back; no admin key, no billing.
      let (missing, escaped) = try await page("/dashboard/billing?tenant=%3Cb%3Ex", key: admin)
      #expect(missing == .notFound && escaped.contains("&lt;b&gt;x") && !escaped.contains("<b>x"))
      for key in [nil, tenantKey] {
        let (_, text) = try await page("/dashboard/billing?tenant=\(tenant)", key: key)
        #expect(!text.contains("data-purchase-id"))
      }
    }
  }
}
