import BillingStore
import Foundation
import HTTPTypes
import Hummingbird
import JobCatalog
import JobContracts
import JobQueue
import Store
import Wire

/// `/v1/subscription`: WHAGO's backend (a service key) starts billing a tenant (again, once an
/// earlier subscription ended); the tenant or the backend reads where it stands, cancels at the
/// period's end, or takes the cancellation back, changes the plan (an upgrade charged now, pro
/// rata; a downgrade at the renewal) or the card. Tenant keys cannot create one: that would pick a
/// plan unpaid.
struct SubscriptionRoutes {
  let store: Store
  let broker: Broker
  let catalog: JobCatalog
  let limits: EnqueuerServer.Limits

  static let fields: Set<String> = [
    "plan", "gateway", "customer", "payment_method", "gateway_subscription_id", "period_end",
  ]

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.post("subscription") { request, context in try await create(request, context: context) }
    group.get("subscription") { _, context in try await show(context: context) }
    group.post("subscription/cancel") { _, context in try await cancel(true, context: context) }
    group.post("subscription/resume") { _, context in try await cancel(false, context: context) }
    group.post("subscription/change") { request, context in try await change(request, context: context) }
    group.put("subscription/payment-method") { request, context in
      try await paymentMethod(request, context: context)
    }
  }

  /// `POST /v1/subscription/change {plan, keep_chips?}`: what will be charged and when. An upgrade answers 202
  /// with the pro-rata amount charged now (`billing.prorate`; the plan applies once it is paid,
  /// event `billing.plan_changed`); a downgrade answers 200 with the new price charged at the
  /// renewal, which applies it.
  func change(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let tenant = try context.tenant().tenant.name
    let body = try await RequestReader.body(
      request, limit: limits.maxBody, fields: ["plan", "keep_chips"], noun: "a plan change")
    let plan = body.string("plan", max: 255)
    let keep = body.ints(
      "keep_chips", count: 0...100, each: 1...Int64.max, expected: "0 to 100 of the tenant's chip ids, in order",
      eachExpected: "an id (≥ 1)")
    try body.finish()
    guard let plan else { throw Problem.invalid(body.problems) }
    let quote: PlanChangeQuote
    do {
      quote = try await store.changePlan(
        tenant: tenant, to: plan, keepChips: keep, now: try await limits.clock.now(on: broker))
    } catch let error as PlanError {
      throw Problem.invalid([.init(pointer: "/plan", detail: "\(error)")])
    } catch PlanChangeError.unknownChips(let ids) {
      throw Problem.invalid([.init(pointer: "/keep_chips", detail: "\(PlanChangeError.unknownChips(ids))")])
    } catch let error as PlanChangeError {
      throw Problem(.conflict, "plan-change-refused", "The plan cannot change now", detail: "\(error)")
    } catch let error as SubscriptionError {
      throw Self.problem(error)
    }
    if let invoice = quote.invoiceID {
      // Asked again while it is charged: the same key, so nothing is added.
      _ = try await broker.enqueue(try BillingProrateJob.spec(invoiceID: invoice, tenant: tenant, catalog: catalog))
    }
    struct View: Encodable {
      var change: PlanChangeQuote.Kind
      var from: String
      var to: String
      var amountCents: Int
      var chargeAt: String
      var invoiceId: Int64?
      /// The new plan is in force now.
      var applied: Bool
    }
    return try JSONResponse.make(
      quote.invoiceID == nil ? .ok : .accepted,
      View(
        change: quote.kind, from: quote.from, to: quote.to, amountCents: quote.amountCents,
        chargeAt: ISO8601DateFormatter().string(from: quote.chargeAt), invoiceId: quote.invoiceID,
        applied: quote.applied))
  }

  /// `PUT /v1/subscription/payment-method {payment_method}`: the card the next attempt uses. A
  /// past-due subscription is charged again with it at once (the renewal job the sweep would add).
  func paymentMethod(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let tenant = try context.tenant().tenant.name
    let body = try await RequestReader.body(
      request, limit: limits.maxBody, fields: ["payment_method"], noun: "a payment method")
    let method = body.string("payment_method", max: 255)
    try body.finish()
    guard let method else { throw Problem.invalid(body.problems) }
    let retry: DueRenewal?
    do {
      (_, retry) = try await store.setPaymentMethod(
        tenant: tenant, method: method, now: try await limits.clock.now(on: broker))
    } catch let error as PlanChangeError {
      throw Problem(.conflict, "payment-method-refused", "The card cannot change here", detail: "\(error)")
    } catch let error as SubscriptionError {
      throw Self.problem(error)
    }
    if let retry {
      _ = try await broker.enqueue(
        try BillingRenewJob.spec(
          subscriptionID: retry.subscriptionID, periodStart: retry.periodStart, attempt: retry.attempt, tenant: tenant,
          catalog: catalog))
    }
    return try await view(tenant, status: .ok)
  }

  static func problem(_ error: SubscriptionError) -> Problem {
    if case .ended = error {
      return Problem(.conflict, "subscription-ended", "The subscription has ended", detail: "\(error)")
    }
    return Problem.notFound("\(error)")
  }

  /// `POST /v1/subscription/cancel`: the plan lasts until the period ends, nothing more is
  /// charged, then the free plan. `POST /v1/subscription/resume` undoes that before the end.
  func cancel(_ cancel: Bool, context: EnqueuerContext) async throws -> Response {
    let tenant = try context.tenant().tenant.name
    do {
      _ = try await store.setCancelAtPeriodEnd(tenant: tenant, cancel: cancel)
    } catch let error as SubscriptionError {
      throw Self.problem(error)
    }
    return try await view(tenant, status: .ok)
  }

  func create(_ request: Request, context: EnqueuerContext) async throws -> Response {
    let access = try context.tenant()
    guard context.byService else {
      throw Problem(
        .forbidden, "service-key-required", "Only WHAGO's backend starts subscriptions",
        detail: "use a service key with Whago-Tenant (or `whago subscription create`)")
    }
    let body = try await RequestReader.body(
      request, limit: limits.maxBody, fields: Self.fields, noun: "a subscription")
    let plan = body.string("plan", max: 255)
    let gateway = body.string("gateway", max: 255)
    let customer = body.string("customer", max: 255)
    // We charge a saved card, or the gateway charges its own subscription: one of the two.
    let method = body.string("payment_method", required: false, max: 255)
    let gatewaySubscription = body.string("gateway_subscription_id", required: false, max: 255)
    switch (body.has("payment_method"), body.has("gateway_subscription_id")) {
    case (false, false):
      body.fail("", "give payment_method (we charge it) or gateway_subscription_id (the gateway charges it)")
    case (true, true):
      body.fail("gateway_subscription_id", "give payment_method or gateway_subscription_id, not both")
    default: break
    }
    let periodEnd = body.date("period_end")
    try body.finish()
    guard let plan, let gateway, let customer, (method == nil) != (gatewaySubscription == nil) else {
      throw Problem.invalid(body.problems)
    }
    do {
      _ = try await store.createSubscription(
        tenant: access.tenant.name, plan: plan, gateway: gateway, customer: customer, paymentMethod: method,
        gatewaySubscriptionID: gatewaySubscription, periodEnd: periodEnd)
    } catch SubscriptionError.exists(let name) {
      throw Problem(
        .conflict, "subscription-exists", "The tenant has a subscription", detail: "\(SubscriptionError.exists(name))")
    } catch let error as SubscriptionError {
      throw Problem.invalid([.init(pointer: "/gateway", detail: "\(error)")])
    } catch let error as PlanError {
      throw Problem.invalid([.init(pointer: "/plan", detail: "\(error)")])
    }
    return try await view(access.tenant.name, status: .created)
  }

  func show(context: EnqueuerContext) async throws -> Response {
    try await view(try context.tenant().tenant.name, status: .ok)
  }

  private func view(_ tenant: String, status: HTTPResponse.Status) async throws -> Response {
    let (subscription, invoices, payments): (Subscription, [InvoiceRecord], [PaymentRecord])
    do {
      (subscription, invoices, payments) = try await store.subscription(tenant: tenant)
    } catch let error as SubscriptionError {
      throw Problem.notFound("\(error)")
    }
    let iso = ISO8601DateFormatter()
    func time(_ date: Date?) -> String? { date.map(iso.string(from:)) }
    struct View: Encodable {
      struct Invoice: Encodable {
        var id: Int64
        var kind: String
        var plan: String
        var periodStart: String
        var amountCents: Int
        var status: InvoiceStatus
        var nextAttemptAt: String?
        var attempts: [Attempt]
      }
      struct Attempt: Encodable {
        var attempt: Int
        var outcome: String
        var declineCode: String?
      }
      var plan: String
      /// A downgrade that the next renewal charges and applies.
      var nextPlan: String?
      var gateway: String
      var status: SubscriptionStatus
      var currentPeriodStart: String
      var currentPeriodEnd: String
      /// Cancelled: nothing more is charged and the free plan follows `current_period_end`.
      var cancelAtPeriodEnd: Bool
      var invoices: [Invoice]
    }
    let body = View(
      plan: subscription.plan, nextPlan: subscription.nextPlan, gateway: subscription.gateway,
      status: subscription.status,
      currentPeriodStart: iso.string(from: subscription.currentPeriodStart),
      currentPeriodEnd: iso.string(from: subscription.currentPeriodEnd),
      cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
      invoices: invoices.map { invoice in
        View.Invoice(
          id: invoice.id, kind: invoice.kind, plan: invoice.plan, periodStart: iso.string(from: invoice.periodStart),
          amountCents: invoice.amountCents, status: invoice.status, nextAttemptAt: time(invoice.nextAttemptAt),
          attempts: payments.filter { $0.invoiceId == invoice.id }.sorted { $0.attempt < $1.attempt }.map {
            View.Attempt(attempt: $0.attempt, outcome: $0.outcome, declineCode: $0.declineCode)
          })
      })
    return try JSONResponse.make(status, body)
  }
}
