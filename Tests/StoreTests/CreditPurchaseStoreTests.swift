import BillingStore
import CampaignStore
import Foundation
import Postgres
import Store
import TestSupport
import Testing

/// A credit purchase's states, in PostgreSQL: credits granted once whatever arrives and in
/// whatever order, money taken granting even after a failure, and a card purchase whose job was
/// lost found again by the sweep's query.
@Suite struct CreditPurchaseStoreTests {
  func purchase(_ store: Store, tenant: String, method: CreditPurchaseMethod = .card) async throws -> CreditPurchase {
    let tenantID = try await store.tenant(named: tenant).id
    return try await store.createCreditPurchase(
      NewCreditPurchase(
        tenantID: tenantID, pack: "1k", gateway: method == .card ? "stripe" : "mercadopago", method: method,
        customer: method == .card ? "cus_\(tenant)" : "dono@example.com",
        paymentMethod: method == .card ? "pm_card_visa" : nil, requestKey: nil)
    ).0
  }

  func packCredits(_ store: Store, _ tenant: String) async throws -> Int {
    try await store.creditBalance(tenantID: try await store.tenant(named: tenant).id).packCreditsLeft
  }

  func delivery(_ id: String) -> GatewayDelivery {
    GatewayDelivery(source: "mercadopago", eventID: id, type: "payment")
  }

  @Test func creditsAreGrantedOnceWhateverArrivesAndInWhateverOrder() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let tenant = try await TestDatabase.tenant(plan: "free", "purchasestore")

    // Declined, then the money arrives after all: paid, granted once.
    let card = try await purchase(store, tenant: tenant)
    _ = try await store.settleCreditPurchase(
      purchaseID: card.id, result: .declined(paymentID: nil, code: "card_declined", advice: nil, hard: false))
    let tenantID = try await store.tenant(named: tenant).id
    #expect(try await store.creditPurchase(id: card.id, tenantID: tenantID)?.status == .failed)
    for _ in 0..<2 {
      _ = try await store.settleCreditPurchase(purchaseID: card.id, result: .succeeded(paymentID: "pi_\(tenant)"))
    }
    #expect(try await packCredits(store, tenant) == 1000)

    // PIX: approved twice (two deliveries), then a stale "cancelled": still paid, granted once.
    let pix = try await purchase(store, tenant: tenant, method: .pix)
    #expect(
      try await store.settleCreditPurchasePayment(
        purchaseID: pix.id, gatewayPaymentID: "1", status: "approved", detail: nil, delivery: delivery("a-\(tenant)")
      ).outcome == .applied)
    #expect(
      try await store.settleCreditPurchasePayment(
        purchaseID: pix.id, gatewayPaymentID: "1", status: "approved", detail: nil, delivery: delivery("b-\(tenant)")
      ).outcome == .recorded)
    #expect(
      try await store.settleCreditPurchasePayment(
        purchaseID: pix.id, gatewayPaymentID: "1", status: "cancelled", detail: "expired",
        delivery: delivery("c-\(tenant)")
      ).outcome == .recorded)
    #expect(try await packCredits(store, tenant) == 2000)
    let added = try await pool.query(
      "SELECT count(*)::int AS n FROM events e JOIN tenants t ON t.id = e.tenant_id WHERE t.name = $1 AND e.kind = $2",
      [tenant, "credits.added"])[0].decode("n", as: Int.self)
    #expect(added == 2)
  }

  @Test func aCardPurchaseWhoseJobWasLostIsFoundAMinuteLater() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let tenant = try await TestDatabase.tenant(plan: "free", "purchaselost")
    let card = try await purchase(store, tenant: tenant)
    #expect(try await store.unchargedCardPurchases().contains { $0.purchaseID == card.id } == false, "too fresh")
    try await pool.query(
      "UPDATE credit_purchases SET created_at = now() - interval '2 minutes' WHERE id = $1", [card.id])
    #expect(try await store.unchargedCardPurchases().contains { $0.purchaseID == card.id && $0.tenant == tenant })
    // A PIX purchase is never charged by the sweep: the buyer pays it.
    let pix = try await purchase(store, tenant: tenant, method: .pix)
    try await pool.query(
      "UPDATE credit_purchases SET created_at = now() - interval '2 minutes' WHERE id = $1", [pix.id])
    #expect(try await store.unchargedCardPurchases().contains { $0.purchaseID == pix.id } == false)
    _ = try await store.settleCreditPurchase(purchaseID: card.id, result: .succeeded(paymentID: "pi_lost"))
    #expect(try await store.unchargedCardPurchases().contains { $0.purchaseID == card.id } == false, "settled")
  }
}
