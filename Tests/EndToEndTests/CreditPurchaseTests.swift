import Foundation
import JobQueue
import Payments
import Postgres
import TestSupport
import Testing

extension EndToEndTests {
  /// Credit packs bought through the gateways: by card, charged once by `credits.purchase`; by PIX
  /// or boleto, credited when Mercado Pago's signed notification says it was paid, once however
  /// often it is delivered; an expired PIX code grants nothing. The simulator's charge log is the
  /// witness: one charge per paid purchase. A refund (Mercado Pago) or a chargeback (Stripe) takes
  /// the pack's unspent credits away and reports the spent ones.
  @Test func creditPacksArePaidOnceByCardOrPixAndReversedByRefundOrChargeback() async throws {
    let start = try await TestDatabase.nextHour()
    let secret = "mp-\(UUID().uuidString)"
    let stripeSecret = "whsec_\(UUID().uuidString.prefix(12))"
    try await BillingRun.with(
      start: start, speed: 1, sweepCron: "0 0 0 1 1 *", simArguments: ["--mercadopago-webhook-secret", secret]
    ) { run in
      try run.startWorker()
      try await ServeProcess.with(environment: [
        "WHAGO_JOBS_DIR": run.catalog.directory, "WHAGO_MERCADOPAGO_WEBHOOK_SECRET": secret,
        "WHAGO_STRIPE_WEBHOOK_SECRET": stripeSecret,
        "WHAGO_MERCADOPAGO_API_URL": run.simBase, "WHAGO_MERCADOPAGO_ACCESS_TOKEN": "TEST-sim",
      ]) { serve in
        let configured = try await HTTP.send(
          "POST", run.simBase + "/_sim/config", headers: ["Content-Type": "application/json"],
          body: Data(#"{"webhook_url":"\#(serve.base)/v1/webhooks/mercadopago"}"#.utf8))
        #expect(configured.status == 200, "\(configured.text)")
        let tenant = try await TestDatabase.tenant(plan: "free")
        let key = try await TestDatabase.apiKey(tenant: nil)
        func buy(_ body: [String: Any], requestKey: String) async throws -> [String: Any] {
          let reply = try await HTTP.send(
            "POST", serve.base + "/v1/credits/purchases", key: key, tenant: tenant, json: body,
            headers: ["Idempotency-Key": requestKey])
          #expect([201, 202].contains(reply.status), "\(reply.text)")
          return try reply.json()
        }
        func purchase(_ id: Int) async throws -> [String: Any] {
          try await HTTP.send("GET", serve.base + "/v1/credits/purchases/\(id)", key: key, tenant: tenant).json()
        }
        func status(_ id: Int) async throws -> String? { try await purchase(id)["status"] as? String }
        func packCredits() async throws -> Int? {
          let credits = try await HTTP.send("GET", serve.base + "/v1/credits", key: key, tenant: tenant).json()
          return (credits["balance"] as? [String: Any])?["pack_credits_left"] as? Int
        }

        // By card: charged by the worker, 5,000 credits.
        let card = try await buy(
          ["pack": "5k", "gateway": "stripe", "customer": "cus_\(tenant)", "payment_method": "pm_card_visa"],
          requestKey: "card-\(tenant)")
        let cardID = try #require(card["id"] as? Int)
        try await eventually("the card purchase to be paid", within: .seconds(60)) {
          try await status(cardID) == "paid"
        }
        #expect(try await packCredits() == 5000)

        // By PIX: paid at Mercado Pago, announced, credited once.
        let pix = try await buy(
          ["pack": "1k", "gateway": "mercadopago", "payment_method": "pix", "payer_email": "dono@example.com"],
          requestKey: "pix-\(tenant)")
        let pixID = try #require(pix["id"] as? Int)
        let payment = try #require(pix["gateway_payment_id"] as? String)
        #expect(pix["status"] as? String == "awaiting_payment")
        #expect(try await packCredits() == 5000, "nothing before it is paid")
        let paid = try await HTTP.send("POST", run.simBase + "/_sim/mercadopago/payments/\(payment)/pay", key: nil)
        #expect(paid.status == 200, "\(paid.text)")
        try await eventually("the PIX purchase to be paid", within: .seconds(30)) { try await status(pixID) == "paid" }
        #expect(try await packCredits() == 6000)
        // The same news again, as a new delivery and as the same one: nothing more.
        let requestID = "again-\(tenant)"
        func deliver() async throws -> String {
          let reply = try await HTTP.send(
            "POST", serve.base + "/v1/webhooks/mercadopago?data.id=\(payment)&type=payment",
            headers: [
              "Content-Type": "application/json", "x-request-id": requestID,
              "x-signature": MercadoPagoSignature.sign(
                dataID: payment, requestID: requestID, secret: secret, timestamp: Date()),
            ],
            body: Data(#"{"action":"payment.updated","type":"payment","data":{"id":"\#(payment)"}}"#.utf8))
          #expect(reply.status == 200, "\(reply.text)")
          return try reply.json()["result"] as? String ?? ""
        }
        #expect(try await deliver() == "recorded")
        #expect(try await deliver() == "duplicate")
        #expect(try await packCredits() == 6000)

        // A boleto paid at the bank: 10,000 more, once.
        let slip = try await buy(
          [
            "pack": "10k", "gateway": "mercadopago", "payment_method": "boleto",
            "payer": [
              "email": "dono@example.com", "first_name": "Ana", "last_name": "Souza", "cpf": "11144477735",
              "address": [
                "zip_code": "01310100", "street_name": "Av. Paulista", "street_number": "1000",
                "neighborhood": "Bela Vista", "city": "São Paulo", "federal_unit": "SP",
              ],
            ],
          ], requestKey: "boleto-\(tenant)")
        let slipID = try #require(slip["id"] as? Int)
        let slipPayment = try #require(slip["gateway_payment_id"] as? String)
        let slipPaid = try await HTTP.send(
          "POST", run.simBase + "/_sim/mercadopago/payments/\(slipPayment)/pay", key: nil)
        #expect(slipPaid.status == 200, "\(slipPaid.text)")
        try await eventually("the boleto to be paid", within: .seconds(30)) { try await status(slipID) == "paid" }
        #expect(try await packCredits() == 16000)

        // A PIX code left unpaid expires: nothing granted, and WHAGO hears why.
        let unpaid = try await buy(
          ["pack": "10k", "gateway": "mercadopago", "payment_method": "pix", "payer_email": "dono@example.com"],
          requestKey: "expired-\(tenant)")
        let unpaidID = try #require(unpaid["id"] as? Int)
        let unpaidPayment = try #require(unpaid["gateway_payment_id"] as? String)
        let expired = try await HTTP.send(
          "POST", run.simBase + "/_sim/mercadopago/payments/\(unpaidPayment)/expire", key: nil)
        #expect(expired.status == 200, "\(expired.text)")
        try await eventually("the PIX purchase to expire", within: .seconds(30)) {
          try await status(unpaidID) == "expired"
        }
        #expect(try await packCredits() == 16000)
        let events = try await run.events(tenant)
        #expect(events.filter { $0 == "credits.added" }.count == 3, "\(events)")
        #expect(events.filter { $0 == "credits.purchase_failed" }.count == 1, "\(events)")

        // The witness: one charge per paid purchase, none for the expired one.
        let references = Set([cardID, pixID, slipID, unpaidID].map { "purchase-\($0)" })
        let taken = try await run.charges().filter {
          references.contains($0["reference"] as? String ?? "") && $0["outcome"] as? String == "succeeded"
        }
        #expect(taken.count == 3, "\(taken)")
        #expect(
          Set(taken.compactMap { $0["reference"] as? String })
            == ["purchase-\(cardID)", "purchase-\(pixID)", "purchase-\(slipID)"])
        #expect(taken.compactMap { $0["amount"] as? Int }.sorted() == [3000, 12000, 20000])

        // The PIX pack refunded at Mercado Pago: its 1,000 credits go.
        let refunded = try await HTTP.send(
          "POST", run.simBase + "/_sim/mercadopago/payments/\(payment)/refund", key: nil)
        #expect(refunded.status == 200, "\(refunded.text)")
        try await eventually("the PIX purchase to be refunded", within: .seconds(30)) {
          try await status(pixID) == "refunded"
        }
        #expect(try await packCredits() == 15000)
        let refundedView = try await purchase(pixID)
        #expect(refundedView["credits_removed"] as? Int == 1000 && refundedView["credits_spent"] as? Int == 0)

        // The card pack, 300 of its credits spent (as messages would), charged back at Stripe:
        // the 4,700 left go, the 300 are reported, not clawed back; the same event again changes nothing.
        try await run.pool.query(
          "UPDATE credit_packs SET credits_left = credits_left - 300 WHERE external_ref = $1", ["purchase-\(cardID)"])
        let intent = try #require(try await purchase(cardID)["gateway_payment_id"] as? String)
        let dispute = Data(
          #"{"id":"evt_dp_\#(tenant)","type":"charge.dispute.created","data":{"object":{"id":"dp_\#(tenant)","object":"dispute","payment_intent":"\#(intent)","reason":"fraudulent"}}}"#
            .utf8)
        func disputed() async throws -> String {
          let reply = try await HTTP.send(
            "POST", serve.base + "/v1/webhooks/stripe",
            headers: [
              "Content-Type": "application/json",
              "Stripe-Signature": StripeSignature.sign(body: dispute, secret: stripeSecret, timestamp: Date()),
            ], body: dispute)
          #expect(reply.status == 200, "\(reply.text)")
          return try reply.json()["result"] as? String ?? ""
        }
        #expect(try await disputed() == "applied")
        #expect(try await disputed() == "duplicate")
        let chargedBack = try await purchase(cardID)
        #expect(chargedBack["status"] as? String == "charged_back")
        #expect(chargedBack["credits_removed"] as? Int == 4700 && chargedBack["credits_spent"] as? Int == 300)
        #expect(try await packCredits() == 10000)
        let reversals = try await run.pool.query(
          """
          SELECT l.delta FROM credit_ledger l JOIN tenants t ON t.id = l.tenant_id
          WHERE t.name = $1 AND l.reason = 'pack_reversal' ORDER BY l.id
          """, [tenant]
        ).rows.map { try $0.decode("delta", as: Int.self) }
        #expect(reversals == [-1000, -4700])
        #expect(try await run.events(tenant).filter { $0 == "credits.reversed" }.count == 2)
        // What the operator on call reads.
        let listed = try await TestDatabase.whago(["credits", "purchases", tenant])
        #expect(listed.contains("#\(cardID) 5k 5000 credits R$ 120,00 stripe card charged_back"), "\(listed)")
        #expect(listed.contains("removed 4700, spent before 300"), "\(listed)")
        #expect(listed.contains("#\(unpaidID) 10k 10000 credits R$ 200,00 mercadopago pix expired"), "\(listed)")
      }
    }
  }
}
