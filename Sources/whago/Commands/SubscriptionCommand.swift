import ArgumentParser
import BillingStore
import Foundation
import JobContracts
import JobQueue
import Store

struct SubscriptionCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "subscription", abstract: "Start billing a tenant through a gateway, or show where it stands.",
    subcommands: [Create.self, Show.self, Cancel.self, Resume.self, Change.self, PaymentMethod.self])

  struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Bill a tenant monthly for a plan (the tenant moves to the plan now).",
      discussion: """
        Example: whago subscription create acme --plan business --gateway stripe --customer cus_123 \\
          --payment-method pm_card_visa --period-end 2026-12-29T00:00:00Z
        The first renewal charges at --period-end (default: a month from now); billing.sweep finds it.
        """)
    @OptionGroup var global: GlobalOptions
    @Argument var tenant: String
    @Option(help: "The plan billed (see `whago plan show`).") var plan: String
    @Option(help: "stripe, mercadopago or paypal.") var gateway: String
    @Option(help: "The customer at the gateway (cus_…, a payer id, …).") var customer: String
    @Option(help: "The saved card or vaulted source we charge at each renewal.") var paymentMethod: String?
    @Option(
      help:
        "Instead: the gateway's own subscription (a Mercado Pago preapproval, a PayPal subscription), which the gateway charges and its webhooks report."
    )
    var gatewaySubscription: String?
    @Option(help: "When the current period ends and the first renewal is due (ISO 8601).") var periodEnd: String?

    func validate() throws {
      guard (paymentMethod == nil) != (gatewaySubscription == nil) else {
        throw ValidationError("give --payment-method (we charge it) or --gateway-subscription (the gateway charges)")
      }
    }

    func run() async throws {
      var end: Date?
      if let periodEnd {
        guard let date = ISO8601DateFormatter().date(from: periodEnd) else {
          throw ValidationError("--period-end must be ISO 8601 with a zone, e.g. 2026-12-29T00:00:00Z")
        }
        end = date
      }
      try await global.withStore { store in
        let subscription = try await store.createSubscription(
          tenant: tenant, plan: plan, gateway: gateway, customer: customer, paymentMethod: paymentMethod,
          gatewaySubscriptionID: gatewaySubscription, periodEnd: end)
        print(
          "subscription \(subscription.id): \(tenant) on \(subscription.plan) through \(subscription.gateway), "
            + "next renewal \(ISO8601DateFormatter().string(from: subscription.currentPeriodEnd))")
      }
    }
  }

  struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Cancel at the period's end: nothing more is charged, the plan lasts until then, then free.")
    @OptionGroup var global: GlobalOptions
    @Argument var tenant: String

    func run() async throws {
      try await global.withStore { store in
        let subscription = try await store.setCancelAtPeriodEnd(tenant: tenant, cancel: true)
        print(
          "subscription \(subscription.id) of \(tenant) is cancelled: \(subscription.plan) until "
            + "\(subscription.currentPeriodEnd.ISO8601Format()), then free (undo: whago subscription resume \(tenant))")
      }
    }
  }

  struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Take back a cancellation before the period ends: renewals are charged again.")
    @OptionGroup var global: GlobalOptions
    @Argument var tenant: String

    func run() async throws {
      try await global.withStore { store in
        let subscription = try await store.setCancelAtPeriodEnd(tenant: tenant, cancel: false)
        print(
          "subscription \(subscription.id) of \(tenant) renews on \(subscription.plan) at "
            + subscription.currentPeriodEnd.ISO8601Format())
      }
    }
  }

  struct Change: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Change a tenant's plan: an upgrade is charged now, pro rata; a downgrade applies at the renewal.",
      discussion: """
        An upgrade prints the amount and enqueues billing.prorate, which charges it once; the plan
        applies when it is paid (see `whago subscription show`). Asking again charges nothing more.
        Naming the current plan takes back a pending downgrade.
        """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var schedule: ScheduleClockOptions
    @Argument var tenant: String
    @Option(help: "The plan to move to (see `whago plan show`).") var plan: String
    @Option(
      help: "Chip ids to keep sending, in order, should the plan allow fewer (e.g. 12,7); the others go read-only.")
    var keepChips: String?

    func validate() throws {
      if let keepChips, keepIDs == nil {
        throw ValidationError("--keep-chips must be chip ids separated by commas, e.g. 12,7 (got '\(keepChips)')")
      }
    }

    var keepIDs: [Int64]? {
      guard let keepChips else { return nil }
      let ids = keepChips.split(separator: ",").map { Int64($0.trimmingCharacters(in: .whitespaces)) }
      return ids.allSatisfy { ($0 ?? 0) > 0 } ? ids.compactMap { $0 } : nil
    }

    func run() async throws {
      let broker = Broker(redis: try global.client())
      let catalog = try global.catalog()
      try await global.withStore { store in
        let quote = try await store.changePlan(
          tenant: tenant, to: plan, keepChips: keepIDs, now: try await schedule.clock.now(on: broker))
        let amount = "R$ \(String(format: "%.2f", Double(quote.amountCents) / 100))"
        let at = quote.chargeAt.ISO8601Format()
        switch quote.kind {
        case .upgrade:
          guard let invoice = quote.invoiceID else {
            print("\(tenant) is on \(quote.to) now (\(quote.from) cost as much: nothing to charge)")
            return
          }
          _ = try await broker.enqueue(try BillingProrateJob.spec(invoiceID: invoice, tenant: tenant, catalog: catalog))
          print(
            "\(tenant): upgrade \(quote.from) -> \(quote.to), \(amount) charged now (invoice \(invoice)); "
              + "the plan applies once it is paid")
        case .downgrade:
          print("\(tenant): \(quote.from) until \(at), then \(quote.to) at \(amount) a month")
        case .unchanged:
          print("\(tenant) stays on \(quote.to); no change pending")
        }
      }
    }
  }

  struct PaymentMethod: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "payment-method",
      abstract: "Change the card a tenant's subscription is charged with; a past-due one is charged again at once.")
    @OptionGroup var global: GlobalOptions
    @OptionGroup var schedule: ScheduleClockOptions
    @Argument var tenant: String
    @Argument(help: "The saved card or vaulted source at the subscription's gateway.") var paymentMethod: String

    func run() async throws {
      let broker = Broker(redis: try global.client())
      let catalog = try global.catalog()
      try await global.withStore { store in
        let (subscription, retry) = try await store.setPaymentMethod(
          tenant: tenant, method: paymentMethod, now: try await schedule.clock.now(on: broker))
        guard let retry else {
          print("\(tenant)'s next charge uses \(paymentMethod) (\(subscription.status))")
          return
        }
        _ = try await broker.enqueue(
          try BillingRenewJob.spec(
            subscriptionID: retry.subscriptionID, periodStart: retry.periodStart, attempt: retry.attempt,
            tenant: tenant, catalog: catalog))
        print("\(tenant) is past due: attempt \(retry.attempt) of \(Dunning.attempts) charges \(paymentMethod) now")
      }
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A tenant's subscription, invoices and payments.")
    @OptionGroup var global: GlobalOptions
    @Argument var tenant: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
      try await global.withStore { store in
        let (subscription, invoices, payments) = try await store.subscription(tenant: tenant)
        if json {
          struct Output: Encodable {
            var subscription: Subscription
            var invoices: [InvoiceRecord]
            var payments: [PaymentRecord]
          }
          print(try JSONOutput.encode(Output(subscription: subscription, invoices: invoices, payments: payments)))
          return
        }
        let iso = ISO8601DateFormatter()
        print(
          "\(tenant): \(subscription.plan) through \(subscription.gateway) (customer \(subscription.gatewayCustomer)), "
            + "\(subscription.status); period \(iso.string(from: subscription.currentPeriodStart)) to "
            + "\(iso.string(from: subscription.currentPeriodEnd))")
        for invoice in invoices {
          print(
            "  invoice \(invoice.id) \(invoice.kind) \(iso.string(from: invoice.periodStart)) \(invoice.plan) "
              + "R$ \(String(format: "%.2f", Double(invoice.amountCents) / 100)) \(invoice.status)"
              + (invoice.nextAttemptAt.map { ", next attempt \(iso.string(from: $0))" } ?? ""))
          for payment in payments where payment.invoiceId == invoice.id {
            print(
              "    attempt \(payment.attempt): \(payment.outcome)"
                + (payment.declineCode.map { " (\($0))" } ?? "") + " key \(payment.idempotencyKey)")
          }
        }
      }
    }
  }
}
