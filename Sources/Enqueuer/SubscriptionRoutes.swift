import BillingStore
import Foundation
import HTTPTypes
import Hummingbird
import JobCatalog
import Store
import Wire

/// `/v1/subscription`: WHAGO's backend (a service key) starts billing a tenant (again, once an
/// earlier subscription ended); the tenant or the backend reads where it stands, cancels at the
/// period's end, or takes the cancellation back. Tenant keys cannot create one: that would pick a plan unpaid.
struct SubscriptionRoutes {
  let store: Store
  let limits: EnqueuerServer.Limits

  static let fields: Set<String> = ["plan", "gateway", "customer", "payment_method", "period_end"]

  func register(on group: RouterGroup<EnqueuerContext>) {
    group.post("subscription") { request, context in try await create(request, context: context) }
    group.get("subscription") { _, context in try await show(context: context) }
    group.post("subscription/cancel") { _, context in try await cancel(true, context: context) }
    group.post("subscription/resume") { _, context in try await cancel(false, context: context) }
  }

  /// `POST /v1/subscription/cancel`: the plan lasts until the period ends, nothing more is
  /// charged, then the free plan. `POST /v1/subscription/resume` undoes that before the end.
  func cancel(_ cancel: Bool, context: EnqueuerContext) async throws -> Response {
    let tenant = try context.tenant().tenant.name
    do {
      _ = try await store.setCancelAtPeriodEnd(tenant: tenant, cancel: cancel)
    } catch let error as SubscriptionError {
      if case .ended = error {
        throw Problem(.conflict, "subscription-ended", "The subscription has ended", detail: "\(error)")
      }
      throw Problem.notFound("\(error)")
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
    let method = body.string("payment_method", max: 255)
    let periodEnd = body.date("period_end")
    try body.finish()
    guard let plan, let gateway, let customer, let method else { throw Problem.invalid(body.problems) }
    do {
      _ = try await store.createSubscription(
        tenant: access.tenant.name, plan: plan, gateway: gateway, customer: customer, paymentMethod: method,
        periodEnd: periodEnd)
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
      var gateway: String
      var status: SubscriptionStatus
      var currentPeriodStart: String
      var currentPeriodEnd: String
      /// Cancelled: nothing more is charged and the free plan follows `current_period_end`.
      var cancelAtPeriodEnd: Bool
      var invoices: [Invoice]
    }
    let body = View(
      plan: subscription.plan, gateway: subscription.gateway, status: subscription.status,
      currentPeriodStart: iso.string(from: subscription.currentPeriodStart),
      currentPeriodEnd: iso.string(from: subscription.currentPeriodEnd),
      cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
      invoices: invoices.map { invoice in
        View.Invoice(
          id: invoice.id, plan: invoice.plan, periodStart: iso.string(from: invoice.periodStart),
          amountCents: invoice.amountCents, status: invoice.status, nextAttemptAt: time(invoice.nextAttemptAt),
          attempts: payments.filter { $0.invoiceId == invoice.id }.sorted { $0.attempt < $1.attempt }.map {
            View.Attempt(attempt: $0.attempt, outcome: $0.outcome, declineCode: $0.declineCode)
          })
      })
    return try JSONResponse.make(status, body)
  }
}
