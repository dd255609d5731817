import Foundation
import OutboundHTTP
import Payments
import PaymentsSimulator
import TestSupport
import Testing

/// Webhooks end to end: PayPal's signature checked by asking (the simulated) PayPal, and a Mercado
/// Pago subscription payment announced, signed, and looked up as a receiver would.
@Suite struct WebhookDeliveryTests {
  @Test func payPalVerifiesWhatItSigned() async throws {
    try await withPaymentsSim { sim, http in
      let verifier = PayPalWebhookVerifier(
        baseURL: sim.base, clientID: sim.paypalClientID, clientSecret: sim.paypalSecret,
        webhookID: sim.paypalWebhookID, http: http)
      // Key order and spacing as a sender might write them: the event goes to PayPal as it came.
      let event = Data(
        #"{"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {"id": "CAP1", "amount": {"value": "97.00", "currency_code": "BRL"}}}"#
          .utf8)
      let signed = try await HTTP.send(
        "POST", sim.base + "/_sim/paypal/sign", headers: ["Content-Type": "application/json"], body: event)
      let headers = try #require(try JSONSerialization.jsonObject(with: signed.body) as? [String: String])
      #expect(Set(headers.keys).isSuperset(of: ["PAYPAL-TRANSMISSION-SIG", "PAYPAL-TRANSMISSION-ID"]))

      #expect(try await verifier.verify(headers: headers, body: event))
      // Header names in any case, as HTTP servers hand them over.
      #expect(
        try await verifier.verify(
          headers: Dictionary(uniqueKeysWithValues: headers.map { ($0.key.lowercased(), $0.value) }), body: event))

      let tampered = Data(String(decoding: event, as: UTF8.self).replacingOccurrences(of: "97.00", with: "9.70").utf8)
      #expect(try await !verifier.verify(headers: headers, body: tampered))
      var forged = headers
      forged["PAYPAL-TRANSMISSION-SIG"] = String(repeating: "0", count: 64)
      #expect(try await !verifier.verify(headers: forged, body: event))
      var missing = headers
      missing["PAYPAL-TRANSMISSION-SIG"] = nil
      #expect(try await !verifier.verify(headers: missing, body: event))
      #expect(try await !verifier.verify(headers: [:], body: event))
      #expect(try await !verifier.verify(headers: headers, body: Data("not json".utf8)))

      // Signed for this webhook id only.
      let otherWebhook = PayPalWebhookVerifier(
        baseURL: sim.base, clientID: sim.paypalClientID, clientSecret: sim.paypalSecret, webhookID: "WH-OTHER",
        http: http)
      #expect(try await !otherWebhook.verify(headers: headers, body: event))

      // PayPal out of reach is transient: the receiver answers 5xx and PayPal delivers again.
      let closed = try ClosedPort()
      defer { closed.close() }
      let down = PayPalWebhookVerifier(
        baseURL: "http://127.0.0.1:\(closed.port)", clientID: sim.paypalClientID, clientSecret: sim.paypalSecret,
        webhookID: sim.paypalWebhookID, http: http)
      await #expect(throws: PaymentError.self) { try await down.verify(headers: headers, body: event) }

      // What needs no call is refused without one: against the PayPal that is out of reach, these
      // answer false instead of failing to connect, so an unauthenticated POST cannot make us
      // call PayPal unless it carries a plausible, fresh transmission.
      var variants: [(String, [String: String], Date)] = []
      for (name, value) in [
        ("PAYPAL-AUTH-ALGO", "SHA1withRSA"), ("PAYPAL-CERT-URL", "https://evil.example.com/certs/1"),
        ("PAYPAL-CERT-URL", "http://api.paypal.com/certs/1"), ("PAYPAL-CERT-URL", "https://paypal.com.evil.example/c"),
        ("PAYPAL-TRANSMISSION-TIME", "yesterday"), ("PAYPAL-TRANSMISSION-SIG", String(repeating: "A", count: 5000)),
      ] {
        var changed = headers
        changed[name] = value
        variants.append(("\(name)=\(value.prefix(40))", changed, Date()))
      }
      variants.append(("sent 10 minutes ago", headers, Date().addingTimeInterval(600)))
      variants.append(("sent 10 minutes from now", headers, Date().addingTimeInterval(-600)))
      for (label, changed, now) in variants {
        #expect(try await !down.verify(headers: changed, body: event, now: now), "\(label)")
      }
    }
  }

  @Test func aMercadoPagoSubscriptionPaymentIsAnnouncedSigned() async throws {
    let receiver = try await WebhookReceiver()
    let secret = "mp-webhook-\(UUID().uuidString.prefix(8))"
    do {
      try await withPaymentsSim(["--webhook-url", receiver.url("mercadopago"), "--mercadopago-webhook-secret", secret])
      { sim, _ in
        let auth = ["Authorization": "Bearer \(sim.mercadoPagoToken)", "Content-Type": "application/json"]
        let created = try await HTTP.send(
          "POST", sim.base + "/preapproval", headers: auth,
          body: Data(
            #"{"reason":"WHAGO Pro","payer_email":"ana@example.com","auto_recurring":{"frequency":1,"frequency_type":"months","transaction_amount":97,"currency_id":"BRL"}}"#
              .utf8))
        #expect(created.status == 201)
        let preapproval = try created.json()
        #expect(preapproval["status"] as? String == "authorized")
        let preapprovalID = try #require(preapproval["id"] as? String)

        let charged = try await HTTP.send(
          "POST", sim.base + "/_sim/mercadopago/preapproval/\(preapprovalID)/charge",
          headers: ["Content-Type": "application/json"], body: Data(#"{"outcome":"approved"}"#.utf8))
        #expect(charged.status == 201)
        let paymentID = try #require((try charged.json()["id"] as? NSNumber)?.stringValue)

        try await eventually("the payment webhook", within: .seconds(10), every: .milliseconds(20)) {
          !receiver.deliveries.isEmpty
        }
        let delivery = try #require(receiver.deliveries.first)
        #expect(delivery.query["data.id"] == paymentID && delivery.query["type"] == "payment")
        #expect(
          MercadoPagoSignature.verify(
            xSignature: delivery.headers["x-signature"], xRequestID: delivery.headers["x-request-id"],
            dataID: delivery.query["data.id"], secret: secret, now: Date()))
        #expect(
          !MercadoPagoSignature.verify(
            xSignature: delivery.headers["x-signature"], xRequestID: delivery.headers["x-request-id"],
            dataID: delivery.query["data.id"], secret: "not-the-secret", now: Date()))
        let notification = try #require(try JSONSerialization.jsonObject(with: delivery.body) as? [String: Any])
        #expect(notification["action"] as? String == "payment.created")
        #expect((notification["data"] as? [String: Any])?["id"] as? String == paymentID)

        // The receiver looks the payment up, as it must (the body is not signed).
        let payment = try await HTTP.send("GET", sim.base + "/v1/payments/\(paymentID)", headers: auth).json()
        #expect(payment["status"] as? String == "approved")
        #expect(payment["external_reference"] as? String == preapprovalID)
        #expect((payment["metadata"] as? [String: Any])?["preapproval_id"] as? String == preapprovalID)

        let log = try await sim.charges()
        #expect(log.count == 1 && log.first?.idempotency_key == nil && log.first?.amount == 9700)
        #expect(log.first?.outcome == "succeeded" && log.first?.payment_id == paymentID)
        #expect(!sim.child.output.contains(secret))
      }
    } catch {
      await receiver.stop()
      throw error
    }
    await receiver.stop()
  }
}
