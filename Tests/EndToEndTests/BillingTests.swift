import Foundation
import JobQueue
import Postgres
import TestSupport
import Testing

/// Recurring billing against the payments simulator, whose log of charges (one per idempotency
/// key) is the witness of what was really charged.
extension EndToEndTests {
  static let day: TimeInterval = 86_400

  @Test func dueSubscriptionsRenewOnceThroughEachGateway() async throws {
    // An hour of schedule time per second; the sweep every 10 schedule minutes, from two schedulers.
    let start = try await TestDatabase.nextHour()
    try await BillingRun.with(start: start, speed: 3600, sweepCron: "0 */10 * * * *") { run in
      let due = start.addingTimeInterval(1800)
      let stripe = try await run.subscribe(
        plan: "business", gateway: "stripe", paymentMethod: "pm_card_visa", periodEnd: due)
      let mercadoPago = try await run.subscribe(
        plan: "business", gateway: "mercadopago", paymentMethod: "card_APRO", periodEnd: due)
      let payPal = try await run.subscribe(
        plan: "enterprise", gateway: "paypal", paymentMethod: "vault_ok", periodEnd: due)
      // Not due for a month: never charged here.
      let later = try await run.subscribe(
        plan: "business", gateway: "stripe", paymentMethod: "pm_card_visa",
        periodEnd: start.addingTimeInterval(30 * Self.day))
      try run.startWorker()
      try run.startWorker()

      for tenant in [stripe, mercadoPago, payPal] {
        try await eventually("\(tenant)'s renewal to be paid", within: .seconds(60)) {
          try await run.state(tenant).periodEnd > due.addingTimeInterval(27 * Self.day)
        }
      }
      // Three more schedule hours of sweeps: nothing is charged twice.
      let settled = try await run.now()
      try await eventually("three more schedule hours", within: .seconds(30)) {
        try await run.now() > settled.addingTimeInterval(3 * 3600)
      }
      for (tenant, cents) in [(stripe, 9700), (mercadoPago, 9700), (payPal, 29700)] {
        let charges = try await run.charges(customer: "cus_\(tenant)")
        #expect(charges.count == 1, "\(tenant) was charged \(charges.count) times")
        #expect(charges.first?["amount"] as? Int == cents)
        #expect(charges.first?["outcome"] as? String == "succeeded")
        let state = try await run.state(tenant)
        #expect(state.subscription == "active")
        #expect(try await run.events(tenant).contains("billing.paid"))
        // The new period's plan credits: the plan's monthly credits, not carried over.
        let credits = try await run.pool.query(
          """
          SELECT a.plan_credits_left, p.monthly_credits FROM credit_accounts a JOIN tenants t ON t.id = a.tenant_id
          JOIN plans p ON p.name = t.plan WHERE t.name = $1
          """, [tenant])[0]
        #expect(
          try credits.decode("plan_credits_left", as: Int.self) == credits.decode("monthly_credits", as: Int.self))
      }
      #expect(try await run.charges(customer: "cus_\(later)").isEmpty)
      let invoices = try await run.pool.query(
        """
        SELECT count(*)::int AS n FROM invoices i JOIN subscriptions s ON s.id = i.subscription_id
        JOIN tenants t ON t.id = s.tenant_id WHERE t.name = ANY($1::text[])
        """, ["{\(stripe),\(mercadoPago),\(payPal)}"])
      #expect(try invoices[0].decode("n", as: Int.self) == 3)
    }
  }

  @Test func aKilledWorkerAndATimeoutAfterChargingStillChargeEachInvoiceOnce() async throws {
    let start = try await TestDatabase.nextHour()
    // The simulator charges, then holds its answer 3 s; workers give up after 1 s.
    try await BillingRun.with(start: start, speed: 60, sweepCron: "0 * * * * *") { run in
      let due = start.addingTimeInterval(60)
      let timedOut = try await run.subscribe(
        plan: "business", gateway: "stripe", paymentMethod: "pm_card_timeoutAfterCharge", periodEnd: due)
      let killed = try await run.subscribe(
        plan: "business", gateway: "mercadopago", paymentMethod: "card_TIMEOUT", periodEnd: due)
      let doomed = try run.startWorker()
      try await eventually("both charges to be made", within: .seconds(60)) {
        let first = try await run.charges(customer: "cus_\(timedOut)").count
        let second = try await run.charges(customer: "cus_\(killed)").count
        return first == 1 && second == 1
      }
      // The worker dies while the gateways hold their answers: the charges were made, unrecorded.
      doomed.signal(SIGKILL)
      try await doomed.waitForExit()
      let pending = try await run.pool.query(
        """
        SELECT count(*)::int AS n FROM payments p JOIN invoices i ON i.id = p.invoice_id
        JOIN subscriptions s ON s.id = i.subscription_id JOIN tenants t ON t.id = s.tenant_id
        WHERE t.name = ANY($1::text[]) AND p.outcome = 'pending'
        """, ["{\(timedOut),\(killed)}"])
      #expect(try pending[0].decode("n", as: Int.self) >= 1, "the kill left a charge unrecorded")
      try run.startWorker()
      for tenant in [timedOut, killed] {
        try await eventually("\(tenant)'s renewal to be paid", within: .seconds(60)) {
          let state = try await run.state(tenant)
          return state.subscription == "active" && state.periodEnd > due.addingTimeInterval(27 * Self.day)
        }
        let charges = try await run.charges(customer: "cus_\(tenant)")
        #expect(charges.count == 1, "\(tenant) was charged \(charges.count) times")
        let payments = try await run.pool.query(
          """
          SELECT p.attempt, p.outcome FROM payments p JOIN invoices i ON i.id = p.invoice_id
          JOIN subscriptions s ON s.id = i.subscription_id JOIN tenants t ON t.id = s.tenant_id WHERE t.name = $1
          """, [tenant])
        #expect(payments.count == 1, "one payment row, one attempt, one key")
        #expect(try payments[0].decode("outcome", as: String.self) == "succeeded")
      }
    }
  }

  /// The gateways forget keys (Stripe after 24 h; here the simulator after 1 s) and Stripe replays
  /// a stored 500 for as long as it keeps the key. A renewal whose answer was lost and that is
  /// retried after the key's window, and one that met a stored 500, look the charge up at the
  /// gateway (Stripe's search by our metadata, Mercado Pago's by external_reference) and record
  /// what it finds: each is charged once (the simulator's log), not again under a forgotten key.
  @Test func aRetryAfterTheGatewayForgotTheKeyLooksTheChargeUpInsteadOfChargingAgain() async throws {
    let start = try await TestDatabase.nextHour()
    try await BillingRun.with(
      start: start, speed: 60, sweepCron: "0 * * * * *", environment: ["WHAGO_GATEWAY_KEY_WINDOW": "1s"]
    ) { run in
      let config = try await HTTP.send(
        "POST", run.simBase + "/_sim/config", headers: ["Content-Type": "application/json"],
        body: Data(#"{"idempotency_window_ms": 1000}"#.utf8))
      #expect(config.status == 200, "\(config.text)")
      let due = start.addingTimeInterval(60)
      let timedOut = try await run.subscribe(
        plan: "business", gateway: "stripe", paymentMethod: "pm_card_timeoutAfterCharge", periodEnd: due)
      let serverError = try await run.subscribe(
        plan: "business", gateway: "stripe", paymentMethod: "pm_card_errorAfterCharge", periodEnd: due)
      let mercadoPago = try await run.subscribe(
        plan: "business", gateway: "mercadopago", paymentMethod: "card_TIMEOUT", periodEnd: due)
      try run.startWorker()
      for tenant in [timedOut, serverError, mercadoPago] {
        try await eventually("\(tenant)'s renewal to be paid", within: .seconds(90)) {
          let state = try await run.state(tenant)
          return state.subscription == "active" && state.periodEnd > due.addingTimeInterval(27 * Self.day)
        }
        let charges = try await run.charges(customer: "cus_\(tenant)")
        #expect(charges.count == 1, "\(tenant) was charged \(charges.count) times")
        let payments = try await run.pool.query(
          """
          SELECT p.outcome, p.gateway_payment_id, p.key_renewals FROM payments p JOIN invoices i ON i.id = p.invoice_id
          JOIN subscriptions s ON s.id = i.subscription_id JOIN tenants t ON t.id = s.tenant_id WHERE t.name = $1
          """, [tenant])
        #expect(payments.count == 1, "one payment row for \(tenant)")
        #expect(try payments[0].decode("outcome", as: String.self) == "succeeded")
        // Found, not charged anew: the recorded payment is the one the simulator made.
        #expect(
          try payments[0].decodeIfPresent("gateway_payment_id", as: String.self) == charges.first?["payment_id"]
            as? String)
        #expect(try payments[0].decode("key_renewals", as: Int.self) == 0)
      }
    }
  }

  @Test func dunningEndsInSuspensionThenTheFreePlanWhoseLimitsHold() async throws {
    // A schedule day every two seconds; the sweep every schedule hour.
    let start = try await TestDatabase.nextHour()
    try await BillingRun.with(start: start, speed: 43_200, sweepCron: "0 0 * * * *") { run in
      let due = start.addingTimeInterval(3600)
      let declined = try await run.subscribe(
        plan: "business", gateway: "stripe", paymentMethod: "pm_card_chargeDeclined", periodEnd: due)
      let needsCustomer = try await run.subscribe(
        plan: "business", gateway: "stripe", paymentMethod: "pm_card_authenticationRequired", periodEnd: due)
      try run.startWorker()
      try await eventually("the declined account to drop to the free plan", within: .seconds(60)) {
        try await run.state(declined).plan == "free"
      }
      // Three attempts, days apart, never an hour apart.
      let attempts = try await run.charges(customer: "cus_\(declined)")
      #expect(attempts.count == 3)
      #expect(attempts.allSatisfy { $0["outcome"] as? String == "declined" })
      let times = attempts.compactMap { $0["time"] as? Int }.sorted().map {
        Double(run.clock.scheduleTime(redis: Int64($0))) / 1000
      }
      let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
      #expect(
        gaps.count == 2 && gaps.allSatisfy { $0 >= Self.day * 0.99 }, "attempts \(gaps.map { $0 / 3600 }) h apart")
      let events = try await run.events(declined)
      #expect(events.filter { $0 == "billing.payment_failed" }.count == 2)
      #expect(events.contains("billing.suspended") && events.contains("billing.downgraded"))
      let state = try await run.state(declined)
      #expect(state.subscription == "canceled" && state.tenant == "active")

      // The customer had to act: one attempt only, no blind retries, then suspended and downgraded too.
      try await eventually("the other account to drop to the free plan", within: .seconds(60)) {
        try await run.state(needsCustomer).plan == "free"
      }
      #expect(try await run.charges(customer: "cus_\(needsCustomer)").count == 1)
      #expect(try await run.events(needsCustomer).contains("billing.action_required"))

      // The free plan's limits apply from the next token: its bucket refills one per 10 s (free's
      // min_send_gap_ms), not business's one per 5 s.
      let broker = try TestRedis.broker()
      let job = try await broker.enqueue(JobSpec(type: "diag.noop", queue: run.queue, maxAttempts: 3, tenant: declined))
      try await eventually("the limited job to run") { try await broker.job(id: job.id).state == .done }
      let bucket = try #require(
        try await broker.buckets(named: declined).first { $0.name == "plancheck:\(declined)" })
      #expect(abs((bucket.refillPerSecond ?? -1) - 0.1) < 0.0001, "bucket refills \(bucket.refillPerSecond ?? -1)/s")
    }
  }

  /// An upgrade in the middle of a period, charged through the payments simulator while the
  /// gateway holds its answer past the worker's timeout and the worker is killed: the pro-rata
  /// amount is charged once (the simulator's log), the plan and its credits apply once, and asking
  /// again charges nothing more.
  @Test func anUpgradeIsChargedProRataOnceThroughATimeoutAndAKill() async throws {
    let start = try await TestDatabase.nextHour()
    try await BillingRun.with(start: start, speed: 60, sweepCron: "0 * * * * *") { run in
      let periodEnd = start.addingTimeInterval(20 * Self.day - 3600)
      let tenant = try await run.subscribe(
        plan: "business", gateway: "stripe", paymentMethod: "pm_card_timeoutAfterCharge", periodEnd: periodEnd)
      // Ten days into a 30-day period.
      try await run.pool.query(
        """
        UPDATE subscriptions SET current_period_start = $2
        WHERE tenant_id = (SELECT id FROM tenants WHERE name = $1)
        """, [tenant, start.addingTimeInterval(-10 * Self.day)])
      let quoted = try await run.whago(["subscription", "change", tenant, "--plan", "enterprise"])
      // (29 700 - 9 700) x 20 / 30 = 13 333,33 centavos.
      #expect(quoted.contains("R$ 133.33 charged now"), "\(quoted)")
      let doomed = try run.startWorker()
      try await eventually("the upgrade to be charged", within: .seconds(60)) {
        try await run.charges(customer: "cus_\(tenant)").count == 1
      }
      doomed.signal(SIGKILL)
      try await doomed.waitForExit()
      // Asked again while it is being charged: the same invoice, nothing more.
      let again = try await run.whago(["subscription", "change", tenant, "--plan", "enterprise"])
      #expect(again.contains("R$ 133.33 charged now"), "\(again)")
      try run.startWorker()
      try await eventually("the upgrade to apply", within: .seconds(60)) {
        try await run.state(tenant).plan == "enterprise"
      }
      let charges = try await run.charges(customer: "cus_\(tenant)")
      #expect(charges.count == 1, "charged \(charges.count) times")
      #expect(charges.first?["amount"] as? Int == 13_333 && charges.first?["outcome"] as? String == "succeeded")
      let payments = try await run.pool.query(
        """
        SELECT p.outcome, i.kind, i.status FROM payments p JOIN invoices i ON i.id = p.invoice_id
        JOIN subscriptions s ON s.id = i.subscription_id JOIN tenants t ON t.id = s.tenant_id WHERE t.name = $1
        """, [tenant])
      #expect(payments.count == 1, "one invoice, one attempt, one key")
      #expect(try payments[0].decode("kind", as: String.self) == "proration")
      #expect(try payments[0].decode("status", as: String.self) == "paid")
      let state = try await run.state(tenant)
      #expect(state.subscription == "active" && abs(state.periodEnd.timeIntervalSince(periodEnd)) < 0.001)
      #expect(try await run.events(tenant).filter { $0 == "billing.plan_changed" }.count == 1)
      // Paid and applied: asking for it again changes nothing and charges nothing.
      let settled = try await run.whago(["subscription", "change", tenant, "--plan", "enterprise"])
      #expect(settled.contains("stays on enterprise"), "\(settled)")
      #expect(try await run.charges(customer: "cus_\(tenant)").count == 1)
    }
  }
}
