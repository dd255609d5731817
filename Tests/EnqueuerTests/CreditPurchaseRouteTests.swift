import BillingStore
import Enqueuer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobCatalog
import JobContracts
import JobQueue
import OutboundHTTP
import Payments
import Postgres
import Store
import TestSupport
import Testing

/// `POST /v1/credits/purchases`, in process, against a real Mercado Pago simulator for the PIX
/// code and the boleto: what is refused and where, a card purchase queued once under its key, a
/// PIX code answered once per Idempotency-Key, a boleto slip for a payer whose CPF checks.
@Suite struct CreditPurchaseRouteTests {
  @Test func purchasesAreCheckedQueuedOnceAndAnswerAPixCode() async throws {
    try await TestDatabase.migrate()
    let pool = try TestDatabase.pool(size: 1)
    defer { pool.close() }
    let store = Store(pool: pool)
    let tenant = try await TestDatabase.tenant(plan: "free", "purchaseroute")
    let serviceKey = try await store.createAPIKey(tenant: nil).key
    let (sim, simPort) = try await Whago.server(["sim", "payments", "--latency", "0ms"], label: "payments-sim")
    defer { sim.signal(SIGKILL) }
    var limits = EnqueuerServer.Limits()
    limits.gatewayWebhooks.mercadoPagoAPI = MercadoPagoGateway(
      baseURL: "http://127.0.0.1:\(simPort)", accessToken: "TEST-sim", http: HTTPClient())
    let broker = try TestRedis.broker()
    let key = "buy-\(tenant)"

    try await withInProcessEnqueuer(limits: limits, broker: broker) { client in
      func buy(_ json: String, key: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
        let (status, body, _) = try await callAPI(
          client, .post, "/v1/credits/purchases", key: serviceKey, tenant: tenant, json: json,
          headers: key.map { ["Idempotency-Key": $0] } ?? [:])
        return (status, body)
      }
      func pointers(_ body: [String: Any]) -> [String] {
        ((body["errors"] as? [[String: Any]]) ?? []).compactMap { $0["pointer"] as? String }
      }
      // Refused, each where it is wrong.
      let (unknown, unknownBody) = try await buy(
        #"{"pack":"2k","gateway":"stripe","customer":"c","payment_method":"pm"}"#)
      #expect(unknown == .unprocessableContent && pointers(unknownBody) == ["/pack"])
      #expect("\(unknownBody)".contains("packs on sale: 1k, 5k, 10k, 50k"), "\(unknownBody)")
      let (pixAtStripe, pixAtStripeBody) = try await buy(
        #"{"pack":"1k","gateway":"stripe","payment_method":"pix","payer_email":"a@b.com"}"#)
      #expect(pixAtStripe == .unprocessableContent && pointers(pixAtStripeBody) == ["/payment_method"])
      let (noEmail, noEmailBody) = try await buy(#"{"pack":"1k","gateway":"mercadopago","payment_method":"pix"}"#)
      #expect(noEmail == .unprocessableContent && pointers(noEmailBody) == ["/payer_email"])
      let (noCard, noCardBody) = try await buy(#"{"pack":"1k","gateway":"paypal"}"#)
      #expect(noCard == .unprocessableContent && pointers(noCardBody) == ["/customer"], "\(noCardBody)")

      // By card: 202 pending, one charge job under the purchase's key, the same purchase again.
      let card = #"{"pack":"5k","gateway":"stripe","customer":"cus_1","payment_method":"pm_card_visa"}"#
      let (queued, purchase) = try await buy(card, key: key)
      #expect(queued == .accepted, "\(purchase)")
      #expect(purchase["status"] as? String == "pending" && purchase["amount_cents"] as? Int == 12000)
      #expect(purchase["credits"] as? Int == 5000 && purchase["method"] as? String == "card")
      let id = try #require(purchase["id"] as? Int)
      let (again, same) = try await buy(card, key: key)
      #expect(again == .accepted && same["id"] as? Int == id)

      // By PIX: the code to pay, and the same code for the same key.
      let pix = #"{"pack":"1k","gateway":"mercadopago","payment_method":"pix","payer_email":"dono@example.com"}"#
      let (made, code) = try await buy(pix, key: key + "-pix")
      #expect(made == .created, "\(code)")
      #expect(code["status"] as? String == "awaiting_payment" && code["amount_cents"] as? Int == 3000)
      let qr = try #require((code["pix"] as? [String: Any])?["qr_code"] as? String)
      #expect(qr.hasPrefix("000201") && (code["pix"] as? [String: Any])?["expires_at"] is String)
      let (repeated, sameCode) = try await buy(pix, key: key + "-pix")
      #expect(repeated == .ok && sameCode["id"] as? Int == code["id"] as? Int)
      #expect((sameCode["pix"] as? [String: Any])?["qr_code"] as? String == qr)

      // By boleto: the payer's CPF must check; the slip comes back.
      func boleto(cpf: String) -> String {
        #"{"pack":"10k","gateway":"mercadopago","payment_method":"boleto","payer":{"email":"dono@example.com","first_name":"Ana","last_name":"Souza","cpf":"\#(cpf)","address":{"zip_code":"01310100","street_name":"Av. Paulista","street_number":"1000","neighborhood":"Bela Vista","city":"São Paulo","federal_unit":"SP"}}}"#
      }
      let (badCPF, badCPFBody) = try await buy(boleto(cpf: "52998224724"))
      #expect(badCPF == .unprocessableContent && pointers(badCPFBody) == ["/payer/cpf"], "\(badCPFBody)")
      let (noPayer, noPayerBody) = try await buy(#"{"pack":"1k","gateway":"mercadopago","payment_method":"boleto"}"#)
      #expect(noPayer == .unprocessableContent && pointers(noPayerBody) == ["/payer"])
      let (slipMade, slip) = try await buy(boleto(cpf: "52998224725"), key: key + "-boleto")
      #expect(slipMade == .created, "\(slip)")
      #expect(slip["method"] as? String == "boleto" && slip["status"] as? String == "awaiting_payment")
      let slipURL = (slip["boleto"] as? [String: Any])?["url"] as? String
      #expect(slipURL?.hasPrefix("https://") == true && (slip["boleto"] as? [String: Any])?["barcode"] is String)

      let (shown, view, _) = try await callAPI(
        client, .get, "/v1/credits/purchases/\(id)", key: serviceKey, tenant: tenant)
      #expect(shown == .ok && view["status"] as? String == "pending")
      let (missing, _, _) = try await callAPI(
        client, .get, "/v1/credits/purchases/999999999999", key: serviceKey, tenant: tenant)
      #expect(missing == .notFound)
    }
    // One job for the card purchase however often it was asked, and one PIX payment at the gateway.
    let purchaseID: Int64 = try await pool.query(
      "SELECT id FROM credit_purchases WHERE request_key = $1", [key]
    )[0].decode("id")
    let catalog = try JobCatalog.load(directory: ProcessInfo.processInfo.environment["WHAGO_JOBS_DIR"] ?? "jobs")
    let job = try await broker.enqueue(
      try CreditPurchaseJob.spec(purchaseID: purchaseID, tenant: tenant, catalog: catalog))
    #expect(job.duplicate, "the route queued credits.purchase under its key")
    let charges =
      try JSONSerialization.jsonObject(
        with: try await HTTP.send("GET", "http://127.0.0.1:\(simPort)/_sim/charges").body) as? [[String: Any]] ?? []
    // The PIX code and the boleto asked once each at Mercado Pago, whatever the repeats.
    #expect(charges.filter { ($0["reference"] as? String)?.hasPrefix("purchase-") == true }.count == 2)
  }
}
