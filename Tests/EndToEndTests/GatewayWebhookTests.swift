import Foundation
import Payments
import Postgres
import TestSupport
import Testing

extension EndToEndTests {
  /// A charge whose answer never came (Stripe unreachable from the worker) is settled by Stripe's
  /// webhook, and only by a genuine one: unsigned, forged, tampered or stale deliveries to each
  /// gateway's endpoint answer 401 and change nothing.
  @Test func forgedOrStaleGatewayWebhooksAreRejectedAndChangeNothing() async throws {
    let start = try await TestDatabase.nextHour()
    // Bound but not listening: every connection to it is refused, and no one else can take it.
    let unreachable = try ClosedPort()
    defer { unreachable.close() }
    try await BillingRun.with(
      start: start, speed: 60, sweepCron: "0 * * * * *", stripeURL: "http://127.0.0.1:\(unreachable.port)"
    ) { run in
      let stripeSecret = "whsec_\(UUID().uuidString)"
      let mpSecret = "mp-\(UUID().uuidString)"
      try await ServeProcess.with(environment: [
        "WHAGO_STRIPE_WEBHOOK_SECRET": stripeSecret, "WHAGO_MERCADOPAGO_WEBHOOK_SECRET": mpSecret,
        "WHAGO_PAYPAL_API_URL": run.simBase, "WHAGO_PAYPAL_CLIENT_ID": "sim", "WHAGO_PAYPAL_CLIENT_SECRET": "sim",
        "WHAGO_PAYPAL_WEBHOOK_ID": "WH-SIM",
      ]) { serve in
        let tenant = try await run.subscribe(
          plan: "business", gateway: "stripe", paymentMethod: "pm_card_visa", periodEnd: start.addingTimeInterval(60))
        try run.startWorker()
        var pendingInvoice: Int64?
        try await eventually("a charge attempt to be pending", within: .seconds(30)) {
          pendingInvoice = try await run.pool.query(
            """
            SELECT i.id FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id JOIN tenants t ON t.id = s.tenant_id
            JOIN payments p ON p.invoice_id = i.id WHERE t.name = $1 AND p.outcome = 'pending'
            """, [tenant]
          ).first?.decode("id", as: Int64.self)
          return pendingInvoice != nil
        }
        let invoice = try #require(pendingInvoice)
        func settled() async throws -> (events: Int, payment: String, subscription: String) {
          let events = try await run.pool.query(
            "SELECT count(*)::int AS n FROM webhook_events WHERE source IN ('stripe', 'mercadopago', 'paypal') AND event_id LIKE $1",
            ["%\(tenant)%"])[0].decode("n", as: Int.self)
          let payment = try await run.pool.query(
            "SELECT outcome FROM payments WHERE invoice_id = $1 ORDER BY attempt DESC LIMIT 1", [invoice])[0].decode(
              "outcome", as: String.self)
          return (events, payment, try await run.state(tenant).subscription)
        }
        let before = try await settled()
        #expect(before.events == 0 && before.payment == "pending")

        let event = Data(
          #"{"id":"evt_\#(tenant)","type":"payment_intent.succeeded","data":{"object":{"id":"pi_\#(tenant)","metadata":{"invoice":"\#(invoice)"}}}}"#
            .utf8)
        func stripe(_ body: Data, signature: String?) async throws -> Int {
          try await HTTP.send(
            "POST", serve.base + "/v1/webhooks/stripe",
            headers: ["Content-Type": "application/json"].merging(signature.map { ["Stripe-Signature": $0] } ?? [:]) {
              $1
            }, body: body
          ).status
        }
        let now = Date()
        #expect(try await stripe(event, signature: nil) == 401, "unsigned")
        #expect(
          try await stripe(event, signature: StripeSignature.sign(body: event, secret: "whsec_wrong", timestamp: now))
            == 401)
        let tampered = Data(
          String(decoding: event, as: UTF8.self).replacingOccurrences(of: "succeeded", with: "payment_failed").utf8)
        #expect(
          try await stripe(tampered, signature: StripeSignature.sign(body: event, secret: stripeSecret, timestamp: now))
            == 401)
        let stale = now.addingTimeInterval(-600)
        #expect(
          try await stripe(event, signature: StripeSignature.sign(body: event, secret: stripeSecret, timestamp: stale))
            == 401)

        // Mercado Pago: x-signature over its manifest.
        func mercadoPago(_ signature: String?, dataID: String = "123\(invoice)") async throws -> Int {
          var headers = ["Content-Type": "application/json", "x-request-id": "req-\(tenant)"]
          headers["x-signature"] = signature
          return try await HTTP.send(
            "POST", serve.base + "/v1/webhooks/mercadopago?data.id=\(dataID)&type=payment", headers: headers,
            body: Data(#"{"action":"payment.created","type":"payment","data":{"id":"\#(dataID)"}}"#.utf8)
          ).status
        }
        #expect(try await mercadoPago(nil) == 401)
        #expect(
          try await mercadoPago(
            MercadoPagoSignature.sign(
              dataID: "123\(invoice)", requestID: "req-\(tenant)", secret: "wrong", timestamp: now))
            == 401)
        #expect(
          try await mercadoPago(
            MercadoPagoSignature.sign(dataID: "999", requestID: "req-\(tenant)", secret: mpSecret, timestamp: now))
            == 401,
          "signed for another payment")

        // PayPal: checked by PayPal's verify-webhook-signature (the simulator plays PayPal).
        let payPalEvent: [String: Any] = [
          "id": "WH-\(tenant)", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": ["id": "cap-\(tenant)"],
        ]
        let signed = try await HTTP.send("POST", run.simBase + "/_sim/paypal/sign", key: nil, json: payPalEvent).json()
        var forgedEvent = payPalEvent
        forgedEvent["event_type"] = "PAYMENT.CAPTURE.REFUNDED"
        let forged = try await HTTP.send(
          "POST", serve.base + "/v1/webhooks/paypal", key: nil, json: forgedEvent,
          headers: signed.compactMapValues { $0 as? String })
        #expect(forged.status == 401)
        let unsigned = try await HTTP.send("POST", serve.base + "/v1/webhooks/paypal", key: nil, json: payPalEvent)
        #expect(unsigned.status == 401)

        let after = try await settled()
        #expect(after.events == 0 && after.payment == "pending" && after.subscription == before.subscription)

        // The genuine deliveries: recorded once; Stripe's settles the charge.
        #expect(
          try await stripe(event, signature: StripeSignature.sign(body: event, secret: stripeSecret, timestamp: now))
            == 200
        )
        #expect(
          try await mercadoPago(
            MercadoPagoSignature.sign(
              dataID: "123\(invoice)", requestID: "req-\(tenant)", secret: mpSecret, timestamp: now)
          )
            == 200)
        let genuine = try await HTTP.send(
          "POST", serve.base + "/v1/webhooks/paypal", key: nil, json: payPalEvent,
          headers: signed.compactMapValues { $0 as? String })
        #expect(genuine.status == 200, "\(genuine.text)")
        let replay = try await HTTP.send(
          "POST", serve.base + "/v1/webhooks/stripe",
          headers: [
            "Content-Type": "application/json",
            "Stripe-Signature": StripeSignature.sign(body: event, secret: stripeSecret, timestamp: now),
          ], body: event)
        #expect(replay.status == 200 && replay.text.contains("duplicate"))
        let paid = try await settled()
        #expect(paid.payment == "succeeded")
        #expect(paid.subscription == "active")
        #expect(try await run.state(tenant).periodEnd > start.addingTimeInterval(25 * Self.day))
      }
    }
  }
}

extension EndToEndTests {
  /// A Mercado Pago subscription (preapproval) that Mercado Pago charges by itself: its signed
  /// `payment` webhook is looked up at Mercado Pago and pays the period, once however often it is
  /// delivered; a rejected payment makes the subscription past_due.
  @Test func mercadoPagoChargesItsOwnSubscriptionAndTheWebhookPaysThePeriod() async throws {
    let start = try await TestDatabase.nextHour()
    let secret = "mp-\(UUID().uuidString)"
    // The simulator first (serve looks payments up there), then told where serve listens.
    try await BillingRun.with(
      start: start, speed: 60, sweepCron: "0 * * * * *", simArguments: ["--mercadopago-webhook-secret", secret]
    ) { run in
      try await ServeProcess.with(environment: [
        "WHAGO_MERCADOPAGO_WEBHOOK_SECRET": secret, "WHAGO_MERCADOPAGO_API_URL": run.simBase,
        "WHAGO_MERCADOPAGO_ACCESS_TOKEN": "TEST-sim",
      ]) { serve in
        let configured = try await HTTP.send(
          "POST", run.simBase + "/_sim/config", headers: ["Content-Type": "application/json"],
          body: Data(#"{"webhook_url":"\#(serve.base)/v1/webhooks/mercadopago"}"#.utf8))
        #expect(configured.status == 200, "\(configured.text)")
        let created = try await HTTP.send(
          "POST", run.simBase + "/preapproval",
          headers: ["Authorization": "Bearer TEST-sim", "Content-Type": "application/json"],
          body: Data(
            #"{"reason":"WHAGO business","payer_email":"dono@example.com","auto_recurring":{"frequency":1,"frequency_type":"months","transaction_amount":97,"currency_id":"BRL"}}"#
              .utf8))
        #expect(created.status == 201)
        let preapproval = try #require(try created.json()["id"] as? String)
        let due = start.addingTimeInterval(60)
        let tenant = try await run.subscribe(
          plan: "business", gateway: "mercadopago", gatewaySubscription: preapproval, periodEnd: due)

        func charge(_ outcome: String) async throws {
          let reply = try await HTTP.send(
            "POST", run.simBase + "/_sim/mercadopago/preapproval/\(preapproval)/charge",
            headers: ["Content-Type": "application/json"], body: Data(#"{"outcome":"\#(outcome)"}"#.utf8))
          #expect(reply.status == 200 || reply.status == 201, "\(reply.text)")
        }
        try await charge("approved")
        try await eventually("the period to be paid", within: .seconds(30)) {
          try await run.state(tenant).periodEnd > due.addingTimeInterval(27 * Self.day)
        }
        let paid = try await run.pool.query(
          """
          SELECT i.status, p.outcome, p.gateway_payment_id IS NOT NULL AS has_id FROM invoices i
          JOIN payments p ON p.invoice_id = i.id JOIN subscriptions s ON s.id = i.subscription_id
          JOIN tenants t ON t.id = s.tenant_id WHERE t.name = $1
          """, [tenant])
        #expect(paid.count == 1)
        #expect(try paid[0].decode("status", as: String.self) == "paid")
        #expect(try paid[0].decode("has_id", as: Bool.self))
        #expect(try await run.state(tenant).subscription == "active")

        try await charge("rejected")
        try await eventually("the subscription to be past due", within: .seconds(30)) {
          try await run.state(tenant).subscription == "past_due"
        }
        #expect(try await run.events(tenant).contains("billing.payment_failed"))
      }
    }
  }
}

extension EndToEndTests {
  /// A PayPal subscription bills itself: its verified PAYMENT.SALE.COMPLETED pays the period once
  /// (a redelivery is a duplicate), and BILLING.SUBSCRIPTION.PAYMENT.FAILED makes it past_due.
  @Test func payPalSubscriptionEventsPayThePeriodOnce() async throws {
    let start = try await TestDatabase.nextHour()
    try await BillingRun.with(start: start, speed: 60, sweepCron: "0 * * * * *") { run in
      try await ServeProcess.with(environment: [
        "WHAGO_PAYPAL_API_URL": run.simBase, "WHAGO_PAYPAL_CLIENT_ID": "sim", "WHAGO_PAYPAL_CLIENT_SECRET": "sim",
        "WHAGO_PAYPAL_WEBHOOK_ID": "WH-SIM",
      ]) { serve in
        let agreement = "I-\(UUID().uuidString.prefix(12))"
        let due = start.addingTimeInterval(60)
        let tenant = try await run.subscribe(
          plan: "business", gateway: "paypal", gatewaySubscription: agreement, periodEnd: due)
        func deliver(_ event: [String: Any]) async throws -> HTTP.Reply {
          let headers = try await HTTP.send("POST", run.simBase + "/_sim/paypal/sign", key: nil, json: event).json()
          return try await HTTP.send(
            "POST", serve.base + "/v1/webhooks/paypal", key: nil, json: event,
            headers: headers.compactMapValues { $0 as? String })
        }
        let sale: [String: Any] = [
          "id": "WH-sale-\(tenant)", "event_type": "PAYMENT.SALE.COMPLETED",
          "resource": ["id": "SALE-\(tenant)", "billing_agreement_id": agreement, "state": "completed"],
        ]
        let first = try await deliver(sale)
        #expect(first.status == 200 && first.text.contains("applied"), "\(first.text)")
        let again = try await deliver(sale)
        #expect(again.status == 200 && again.text.contains("duplicate"))
        let state = try await run.state(tenant)
        #expect(state.subscription == "active" && state.periodEnd > due.addingTimeInterval(27 * Self.day))
        let payments = try await run.pool.query(
          """
          SELECT p.outcome FROM payments p JOIN invoices i ON i.id = p.invoice_id JOIN subscriptions s ON s.id = i.subscription_id
          JOIN tenants t ON t.id = s.tenant_id WHERE t.name = $1
          """, [tenant])
        #expect(payments.count == 1)

        let failed = try await deliver([
          "id": "WH-failed-\(tenant)", "event_type": "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
          "resource": ["id": agreement, "status": "ACTIVE"],
        ])
        #expect(failed.status == 200 && failed.text.contains("applied"), "\(failed.text)")
        #expect(try await run.state(tenant).subscription == "past_due")
      }
    }
  }
}
