import Foundation
import JobQueue
import Postgres
import TestSupport
import Testing

extension EndToEndTests {
  /// Subscriptions the gateways bill by themselves end there: Mercado Pago's signed
  /// `subscription_preapproval` notification (the status read back from Mercado Pago) and PayPal's
  /// verified BILLING.SUBSCRIPTION.CANCELLED cancel them at the period's end, once however often
  /// delivered; ones whose webhook never came are found by `billing.reconcile`. The paid period is
  /// kept, then each tenant moves to the free plan.
  @Test func subscriptionsEndedAtTheGatewayEndHereByWebhookOrByReconciliation() async throws {
    let start = try await TestDatabase.nextHour()
    let secret = "mp-\(UUID().uuidString)"
    try await BillingRun.with(
      start: start, speed: 60, sweepCron: "0 * * * * *", simArguments: ["--mercadopago-webhook-secret", secret]
    ) { run in
      try await ServeProcess.with(environment: [
        "WHAGO_MERCADOPAGO_WEBHOOK_SECRET": secret, "WHAGO_MERCADOPAGO_API_URL": run.simBase,
        "WHAGO_MERCADOPAGO_ACCESS_TOKEN": "TEST-sim", "WHAGO_PAYPAL_API_URL": run.simBase,
        "WHAGO_PAYPAL_CLIENT_ID": "sim", "WHAGO_PAYPAL_CLIENT_SECRET": "sim", "WHAGO_PAYPAL_WEBHOOK_ID": "WH-SIM",
      ]) { serve in
        let mercadoPago = ["Authorization": "Bearer TEST-sim", "Content-Type": "application/json"]
        func preapproval() async throws -> String {
          let created = try await HTTP.send(
            "POST", run.simBase + "/preapproval", headers: mercadoPago,
            body: Data(
              #"{"reason":"WHAGO business","payer_email":"dono@example.com","auto_recurring":{"frequency":1,"frequency_type":"months","transaction_amount":97,"currency_id":"BRL"}}"#
                .utf8))
          #expect(created.status == 201, "\(created.text)")
          return try #require(try created.json()["id"] as? String)
        }
        func setPreapproval(_ id: String, _ status: String) async throws {
          let reply = try await HTTP.send(
            "PUT", run.simBase + "/preapproval/\(id)", headers: mercadoPago,
            body: Data(#"{"status":"\#(status)"}"#.utf8))
          #expect(reply.status == 200, "\(reply.text)")
        }
        func setPayPal(_ id: String, _ status: String) async throws {
          let reply = try await HTTP.send(
            "POST", run.simBase + "/_sim/paypal/subscriptions/\(id)", key: nil, json: ["status": status])
          #expect(reply.status == 200, "\(reply.text)")
        }
        let periodEnd = start.addingTimeInterval(1800)
        let (mpHeard, mpLost) = (try await preapproval(), try await preapproval())
        let (ppHeard, ppLost) = ("I-\(UUID().uuidString.prefix(12))", "I-\(UUID().uuidString.prefix(12))")
        try await setPayPal(ppHeard, "ACTIVE")
        try await setPayPal(ppLost, "ACTIVE")
        var tenants: [String: String] = [:]
        for (id, gateway) in [
          (mpHeard, "mercadopago"), (mpLost, "mercadopago"), (ppHeard, "paypal"), (ppLost, "paypal"),
        ] {
          tenants[id] = try await run.subscribe(
            plan: "business", gateway: gateway, gatewaySubscription: id, periodEnd: periodEnd)
        }
        func cancelling(_ id: String) async throws -> Bool {
          try await run.pool.query(
            "SELECT cancel_at_period_end FROM subscriptions WHERE gateway_subscription_id = $1", [id]
          )[0].decode("cancel_at_period_end")
        }
        func cancelled(_ id: String) async throws -> Int {
          try await run.events(try #require(tenants[id])).filter { $0 == "billing.cancelled" }.count
        }

        // Paused at Mercado Pago before serve was told where to notify: that notification is lost.
        try await setPreapproval(mpLost, "paused")
        let configured = try await HTTP.send(
          "POST", run.simBase + "/_sim/config", headers: ["Content-Type": "application/json"],
          body: Data(#"{"webhook_url":"\#(serve.base)/v1/webhooks/mercadopago"}"#.utf8))
        #expect(configured.status == 200, "\(configured.text)")
        // Cancelled at Mercado Pago, notified: cancelled here at the period's end.
        try await setPreapproval(mpHeard, "cancelled")
        try await eventually("the notified preapproval to be cancelled here", within: .seconds(30)) {
          try await cancelling(mpHeard)
        }
        // Cancelled at PayPal: its verified event, delivered twice, applies once.
        try await setPayPal(ppHeard, "CANCELLED")
        let event: [String: Any] = [
          "id": "WH-cancel-\(ppHeard)", "event_type": "BILLING.SUBSCRIPTION.CANCELLED",
          "resource": ["id": ppHeard, "status": "CANCELLED"],
        ]
        for expected in ["applied", "duplicate"] {
          let headers = try await HTTP.send("POST", run.simBase + "/_sim/paypal/sign", key: nil, json: event).json()
          let reply = try await HTTP.send(
            "POST", serve.base + "/v1/webhooks/paypal", key: nil, json: event,
            headers: headers.compactMapValues { $0 as? String })
          #expect(reply.status == 200 && reply.text.contains(expected), "\(reply.text)")
        }
        #expect(try await cancelling(ppHeard))
        // Suspended at PayPal with no event at all.
        try await setPayPal(ppLost, "SUSPENDED")
        #expect(try await cancelling(mpLost) == false)
        #expect(try await cancelling(ppLost) == false)
        // The paid period is kept.
        for id in [mpHeard, ppHeard] {
          let state = try await run.state(try #require(tenants[id]))
          #expect(state.plan == "business" && state.subscription == "active")
          #expect(try await cancelled(id) == 1)
        }

        // The reconciliation finds the two whose news never came, and changes nothing the second time.
        try run.startWorker()
        let broker = try TestRedis.broker()
        for round in 1...2 {
          let job = try await broker.enqueue(JobSpec(type: "billing.reconcile", queue: run.queue))
          try await eventually("reconciliation \(round) to finish", within: .seconds(30)) {
            try await broker.job(id: job.id).state == .done
          }
        }
        for id in [mpLost, ppLost] {
          #expect(try await cancelling(id), "\(id) not found ended")
        }
        for id in [mpHeard, mpLost, ppHeard, ppLost] {
          #expect(try await cancelled(id) == 1, "\(id): one billing.cancelled")
        }
        let statuses = try await run.pool.query(
          """
          SELECT e.payload->>'gateway_status' AS status FROM events e JOIN subscriptions s ON s.id = e.subject_id
          WHERE e.kind = 'billing.cancelled' AND e.subject_type = 'subscription'
            AND s.gateway_subscription_id = ANY($1::text[])
          ORDER BY e.id
          """, ["{\(mpLost),\(ppLost)}"]
        ).rows.map { try $0.decode("status", as: String.self) }
        #expect(Set(statuses) == ["paused", "SUSPENDED"])

        // The period ends: all four on the free plan.
        for id in [mpHeard, mpLost, ppHeard, ppLost] {
          let tenant = try #require(tenants[id])
          try await eventually("\(tenant) to drop to free at the period's end", within: .seconds(90)) {
            try await run.state(tenant).plan == "free"
          }
          #expect(try await run.events(tenant).contains("billing.downgraded"))
        }
      }
    }
  }
}
