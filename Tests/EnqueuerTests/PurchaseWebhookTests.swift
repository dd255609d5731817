import BillingStore
import CampaignStore
import Enqueuer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Payments
import Postgres
import Store
import TestSupport
import Testing

/// Stripe's word on a credit pack's card charge, in process: a signed `payment_intent.succeeded`
/// naming the purchase (`metadata[purchase]`) pays it once, as when the job lost the charge's answer.
@Suite struct PurchaseWebhookTests {
  @Test func stripesSucceededEventPaysAPendingCardPurchaseOnce() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let tenant = try await TestDatabase.tenant(plan: "free", "purchasehook")
    let tenantID = try await store.tenant(named: tenant).id
    let (purchase, _) = try await store.createCreditPurchase(
      NewCreditPurchase(
        tenantID: tenantID, pack: "5k", gateway: "stripe", method: .card, customer: "cus_\(tenant)",
        paymentMethod: "pm_card_visa", requestKey: nil))
    let secret = "whsec_\(UUID().uuidString.prefix(12))"
    var limits = EnqueuerServer.Limits()
    limits.gatewayWebhooks.stripeSecret = secret
    let event = Data(
      #"{"id":"evt_\#(tenant)","type":"payment_intent.succeeded","data":{"object":{"id":"pi_\#(tenant)","object":"payment_intent","metadata":{"purchase":"purchase-\#(purchase.id)","idempotency_key":"k"}}}}"#
        .utf8)

    try await withInProcessEnqueuer(limits: limits) { client in
      func deliver() async throws -> String {
        let headers: HTTPFields = [
          .contentType: "application/json",
          HTTPField.Name("Stripe-Signature")!: StripeSignature.sign(body: event, secret: secret, timestamp: Date()),
        ]
        return try await client.execute(
          uri: "/v1/webhooks/stripe", method: .post, headers: headers, body: ByteBuffer(bytes: event)
        ) { String(buffer: $0.body) }
      }
      let first = try await deliver()
      let again = try await deliver()
      #expect(first.contains("applied"), "\(first)")
      #expect(again.contains("duplicate"), "\(again)")
    }
    let paid = try #require(try await store.creditPurchase(id: purchase.id, tenantID: tenantID))
    #expect(paid.status == .paid && paid.gatewayPaymentId == "pi_\(tenant)")
    #expect(try await store.creditBalance(tenantID: tenantID).packCreditsLeft == 5000)
    #expect(try await store.pendingCardCharge(purchaseID: purchase.id) == nil, "the job finds nothing left to charge")
  }
}
