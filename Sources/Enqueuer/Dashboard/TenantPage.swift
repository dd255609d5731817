import CampaignStore
import Foundation
import JobQueue
import Store

/// `/dashboard/tenants` and `/dashboard/tenants/{name}`: one customer at a glance when its support
/// ticket arrives: plan and limits, credits, its jobs in every state per queue, campaigns with
/// progress, chips with their WhatsApp status, its rate-limit buckets and its recent events.
enum TenantPage {
  /// One queue's jobs of the tenant. Counts past `countCap` read as "at least".
  struct JobCounts {
    var queue: String
    var ready: Int
    var waiting: Int
    var running: Int
    var dead: Int
  }

  /// Counted per state and queue at most; the tenant's jobs past it show as "1000+".
  static let countCap = 1_000

  struct View {
    var tenant: Tenant
    var plan: Plan?
    var balance: CreditBalance?
    var jobs: [JobCounts]
    var campaigns: [(CampaignRecord, CampaignCounts)]
    var chips: [Chip]
    var buckets: [BucketLevel]
    var events: [Event]
  }

  static func index(_ tenants: [Tenant]) -> String {
    guard !tenants.isEmpty else {
      return DashboardLayout.page(title: "Tenants", body: "<p class=\"empty\">No tenant yet.</p>")
    }
    let rows = tenants.map {
      """
      <tr data-tenant="\(html($0.name))"><td><a href="\(html(path($0.name)))">\(html($0.name))</a></td>\
      <td>\(html($0.plan))</td><td>\(html($0.status.rawValue))</td><td>\(html(dashboardTime($0.createdAt)))</td></tr>
      """
    }.joined(separator: "\n")
    return DashboardLayout.page(
      title: "Tenants",
      body: """
        <table id="tenants"><thead><tr><th>Tenant</th><th>Plan</th><th>Status</th><th>Since</th></tr></thead>
        <tbody>\(rows)</tbody></table>
        """)
  }

  static func path(_ name: String) -> String { "/dashboard/tenants/\(urlComponent(name))" }

  static func missing(_ name: String) -> String {
    DashboardLayout.page(
      title: "Tenant", body: "<p class=\"error\" id=\"tenant-missing\">No tenant named \(html(name)).</p>")
  }

  static func render(_ view: View) -> String {
    let t = view.tenant
    var body = """
      <dl id="tenant"><dt>Plan</dt><dd>\(html(t.plan))</dd><dt>Status</dt><dd class="status">\(html(t.status.rawValue))</dd>\
      <dt>Sending window</dt><dd>\(html(t.windowStart))–\(html(t.windowEnd)) \(html(t.timezone)), days \
      \(t.windowDays.map(String.init).joined(separator: ","))</dd>\
      <dt>Credits</dt><dd id="credits">\(html(credits(view.balance)))</dd>\
      <dt>Billing</dt><dd><a href="/dashboard/billing?tenant=\(html(urlComponent(t.name)))">subscription and invoices</a></dd></dl>
      """
    if let plan = view.plan {
      let limits: [(String, String)] = [
        ("chips", limit(plan.chips)), ("monthly credits", limit(plan.monthlyCredits)),
        ("active campaigns", limit(plan.activeCampaigns)), ("sends per minute", limit(plan.sendsPerMinute)),
        ("gap between a chip's sends", "\(plan.minSendGapMs) ms"),
        ("API requests per hour", limit(plan.apiRequestsPerHour)),
        ("scheduled jobs", limit(plan.scheduledJobs)), ("job payload", limit(plan.jobPayloadBytes).appending(" bytes")),
      ]
      body +=
        "<h2>Plan limits</h2><dl id=\"plan-limits\">"
        + limits.map { "<dt>\(html($0.0))</dt><dd>\(html($0.1))</dd>" }.joined() + "</dl>"
    }
    body += "<section id=\"tenant-live\" data-live><h2>Jobs</h2>"
    let jobRows = view.jobs.filter { $0.ready + $0.waiting + $0.running + $0.dead > 0 }
    if jobRows.isEmpty {
      body += "<p class=\"empty\" id=\"no-jobs\">No job of this tenant is ready, waiting, running or dead.</p>"
    } else {
      body += """
        <table id="tenant-jobs"><thead><tr><th>Queue</th><th>Ready</th><th>Waiting</th><th>Running</th><th>Dead</th>\
        </tr></thead><tbody>
        """
      for j in jobRows {
        let filter = "queue=\(urlComponent(j.queue))&tenant=\(urlComponent(t.name))"
        body += """
          <tr data-queue="\(html(j.queue))"><td>\(html(j.queue))</td><td class="n ready">\(count(j.ready))</td>\
          <td class="n waiting"><a href="/dashboard/scheduled?\(html(filter))">\(count(j.waiting))</a></td>\
          <td class="n running">\(count(j.running))</td>\
          <td class="n dead"><a href="/dashboard/dead?\(html(filter))">\(count(j.dead))</a></td></tr>
          """
      }
      body += "</tbody></table>"
    }
    body += "<h2>Campaigns</h2>"
    if view.campaigns.isEmpty {
      body += "<p class=\"empty\">No campaign is running, paused or scheduled.</p>"
    } else {
      body +=
        "<table id=\"tenant-campaigns\"><thead><tr><th>Campaign</th><th>Status</th><th>Progress</th>"
        + "<th>Sent</th><th>Failed</th><th>Total</th></tr></thead><tbody>"
      for (campaign, counts) in view.campaigns {
        let done = counts.total - counts.pending - counts.sending
        body += """
          <tr data-campaign-id="\(campaign.id)"><td>\(html(campaign.name))</td><td>\(html(campaign.status.rawValue))\
          \(campaign.pauseReason.map { " (\(html($0)))" } ?? "")</td>\
          <td><progress max="\(max(1, counts.total))" value="\(done)"></progress></td>\
          <td class="n">\(counts.sent + counts.delivered + counts.read)</td><td class="n">\(counts.failed)</td>\
          <td class="n">\(counts.total)</td></tr>
          """
      }
      body += "</tbody></table>"
    }
    body += "<h2>Chips</h2>"
    if view.chips.isEmpty {
      body += "<p class=\"empty\">No chip.</p>"
    } else {
      body +=
        "<table id=\"tenant-chips\"><thead><tr><th>Chip</th><th>Session</th><th>Status</th><th>Since</th>"
        + "<th>Sends</th></tr></thead><tbody>"
      for chip in view.chips {
        body += """
          <tr data-chip-id="\(chip.id)"><td>\(html(chip.name))</td><td>\(html(chip.session))</td>\
          <td class="status">\(html(chip.status.rawValue))</td><td>\(html(dashboardTime(chip.statusChangedAt)))</td>\
          <td>\(chip.readOnlySince == nil ? "yes" : "no: over the plan's chips")</td></tr>
          """
      }
      body += "</tbody></table>"
    }
    body += "<h2>Rate limits now</h2>"
    if view.buckets.isEmpty {
      body += "<p class=\"empty\">Every bucket is full.</p>"
    } else {
      body +=
        "<table id=\"tenant-buckets\"><thead><tr><th>Bucket</th><th>Tokens now</th><th>Capacity</th>"
        + "<th>Refill</th></tr></thead><tbody>"
      for b in view.buckets {
        body += """
          <tr data-bucket="\(html(b.name))"><td><code>\(html(b.name))</code></td><td class="n">\(LimitsPage.number(b.level))</td>\
          <td class="n">\(b.capacity.map(LimitsPage.number) ?? "?")</td><td class="n">\(b.refillPerSecond.map(LimitsPage.rate) ?? "?")</td></tr>
          """
      }
      body += "</tbody></table>"
    }
    body += "</section><h2>Recent events</h2>"
    body += view.events.isEmpty ? "<p class=\"empty\">No event.</p>" : EventsPage.table(view.events)
    body += "<p><a href=\"/dashboard/events?tenant=\(html(urlComponent(t.name)))\">Every event of this tenant</a></p>"
    return DashboardLayout.page(title: "Tenant \(t.name)", body: body)
  }

  static func limit(_ value: Int?) -> String { value.map(String.init) ?? "unlimited" }

  static func count(_ n: Int) -> String { n >= countCap ? "\(countCap)+" : String(n) }

  static func credits(_ balance: CreditBalance?) -> String {
    guard let balance else { return "–" }
    guard let plan = balance.planCreditsLeft else { return "unlimited (plan), \(balance.packCreditsLeft) from packs" }
    return "\(plan) of \(balance.planCreditsGranted ?? plan) from the plan, \(balance.packCreditsLeft) from packs"
  }
}
