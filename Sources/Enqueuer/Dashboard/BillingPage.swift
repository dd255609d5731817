import BillingStore
import CampaignStore
import Foundation
import Store

/// Money, per tenant: the subscription with its invoices and every charge attempt, the credits
/// and the packs bought. Without a tenant: the subscriptions that need someone (past due,
/// suspended, ending) and the newest purchases of every tenant, reversals first in mind.
enum BillingPage {
  /// One tenant's billing, as the page shows it.
  struct Tenant {
    var name: String
    var subscription: (Subscription, [InvoiceRecord], [PaymentRecord])?
    var balance: CreditBalance
    var purchases: [CreditPurchase]
  }

  static func form(_ tenant: String?) -> String {
    """
    <form method="get" action="/dashboard/billing" class="filters" id="billing-filter">
    <label>Tenant <input name="tenant" id="billing-tenant" value="\(html(tenant ?? ""))"></label>
    <button type="submit" id="billing-apply">Show</button> <a href="/dashboard/billing">all tenants</a>
    </form>
    """
  }

  static func overview(trouble: [SubscriptionInTrouble], purchases: [TenantCreditPurchase]) -> String {
    var rows = ""
    for s in trouble {
      let state = s.status == .active && s.cancelAtPeriodEnd ? "cancelling" : s.status.rawValue
      rows += """
        <tr><td><a href="/dashboard/billing?tenant=\(html(query(s.tenant)))">\(html(s.tenant))</a></td>\
        <td>\(html(s.plan))</td><td>\(html(state))</td><td>\(html(s.gateway))</td>\
        <td>\(html(time(s.currentPeriodEnd)))</td></tr>

        """
    }
    let troubleTable =
      trouble.isEmpty
      ? "<p class=\"empty\" id=\"trouble-empty\">No subscription is past due, suspended or ending.</p>"
      : """
      <table id="trouble-table"><thead><tr><th>Tenant</th><th>Plan</th><th>Status</th><th>Gateway</th>\
      <th>Period ends</th></tr></thead><tbody>
      \(rows)</tbody></table>
      """
    return DashboardLayout.page(
      title: "Billing",
      body: """
        <section id="billing">\(form(nil))
        <h2>Subscriptions that need someone</h2>\(troubleTable)
        <h2>Credit packs bought, newest first</h2>\(purchaseTable(purchases.map { ($0.tenant, $0.purchase) }))
        </section>
        """)
  }

  static func tenant(_ t: Tenant) -> String {
    var body = form(t.name)
    if let (subscription, invoices, payments) = t.subscription {
      let state =
        subscription.status == .active && subscription.cancelAtPeriodEnd
        ? "active, cancelling at the period's end" : subscription.status.rawValue
      body += """
        <h2>Subscription</h2>
        <dl id="subscription"><dt>Plan</dt><dd>\(html(subscription.plan))\
        \(subscription.nextPlan.map { " (then \(html($0)))" } ?? "")</dd>\
        <dt>Status</dt><dd>\(html(state))</dd><dt>Gateway</dt><dd>\(html(subscription.gateway))</dd>\
        <dt>Period</dt><dd>\(html(time(subscription.currentPeriodStart))) to \
        \(html(time(subscription.currentPeriodEnd)))</dd></dl>
        """
      var invoiceRows = ""
      for i in invoices {
        invoiceRows += """
          <tr data-invoice-id="\(i.id)"><td class="n">\(i.id)</td><td>\(html(i.kind))</td><td>\(html(i.plan))</td>\
          <td>\(html(time(i.periodStart)))</td><td class="n">\(html(money(i.amountCents)))</td>\
          <td>\(html(i.status.rawValue))</td><td>\(html(i.paidAt.map(time) ?? "–"))</td></tr>

          """
      }
      var paymentRows = ""
      for p in payments {
        let why = [p.declineCode, p.error].compactMap { $0 }.joined(separator: "; ")
        paymentRows += """
          <tr><td class="n">\(p.invoiceId)</td><td class="n">\(p.attempt)</td><td>\(html(p.outcome))</td>\
          <td class="n">\(html(money(p.amountCents)))</td><td>\(html(p.gatewayPaymentId ?? "–"))</td>\
          <td>\(html(why.isEmpty ? "–" : why))</td></tr>

          """
      }
      body += """
        <h2>Invoices</h2><table id="invoices-table"><thead><tr><th>Id</th><th>Kind</th><th>Plan</th>\
        <th>Period from</th><th>Amount</th><th>Status</th><th>Paid</th></tr></thead><tbody>
        \(invoiceRows)</tbody></table>
        <h2>Charge attempts</h2><table id="payments-table"><thead><tr><th>Invoice</th><th>Attempt</th>\
        <th>Outcome</th><th>Amount</th><th>Gateway payment</th><th>Why</th></tr></thead><tbody>
        \(paymentRows)</tbody></table>
        """
    } else {
      body += "<p class=\"empty\" id=\"subscription-empty\">\(html(t.name)) has no subscription.</p>"
    }
    let balance = t.balance
    body += """
      <h2>Credits</h2>
      <p id="credits">Plan: \(balance.planCreditsLeft.map(String.init) ?? "unlimited") left \
      of \(balance.planCreditsGranted.map(String.init) ?? "unlimited"); packs: \(balance.packCreditsLeft) left.</p>
      <h2>Credit packs bought</h2>\(purchaseTable(t.purchases.map { (nil, $0) }))
      """
    return DashboardLayout.page(title: "Billing · \(t.name)", body: "<section id=\"billing\">\(body)</section>")
  }

  static func missing(_ tenant: String) -> String {
    DashboardLayout.page(
      title: "Billing",
      body: """
        <section id="billing">\(form(tenant))<p class="empty" id="tenant-missing">No tenant is named \
        \(html(tenant)).</p></section>
        """)
  }

  static func purchaseTable(_ purchases: [(tenant: String?, purchase: CreditPurchase)]) -> String {
    guard !purchases.isEmpty else { return "<p class=\"empty\" id=\"purchases-empty\">No pack was bought.</p>" }
    let showTenant = purchases.contains { $0.tenant != nil }
    var rows = ""
    for (tenant, p) in purchases {
      var status = p.status.rawValue
      if let removed = p.creditsRemoved, let spent = p.creditsSpent {
        status += ": \(removed) removed, \(spent) spent before (not clawed back)"
      }
      if let failure = p.failure { status += " (\(failure))" }
      let tenantCell =
        tenant.map { "<td><a href=\"/dashboard/billing?tenant=\(html(query($0)))\">\(html($0))</a></td>" } ?? ""
      rows += """
        <tr data-purchase-id="\(p.id)"><td class="n">\(p.id)</td>\(tenantCell)<td>\(html(p.pack))</td>\
        <td class="n">\(p.credits)</td><td class="n">\(html(money(p.amountCents)))</td>\
        <td>\(html(p.gateway)) \(html(p.method.rawValue))</td><td>\(html(status))</td>\
        <td>\(html(time(p.createdAt)))</td></tr>

        """
    }
    return """
      <table id="purchases-table"><thead><tr><th>Id</th>\(showTenant ? "<th>Tenant</th>" : "")<th>Pack</th>\
      <th>Credits</th><th>Price</th><th>Paid by</th><th>Status</th><th>Bought</th></tr></thead><tbody>
      \(rows)</tbody></table>
      """
  }

  static func money(_ cents: Int) -> String {
    "R$ \(cents / 100),\(String(format: "%02d", cents % 100))"
  }

  static func time(_ date: Date) -> String { dashboardTime(Int64(date.timeIntervalSince1970 * 1000)) }

  static func query(_ value: String) -> String {
    value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
  }
}
