import CampaignStore
import Foundation
import JobQueue
import Store

/// The overview: queues with their last hour, running campaigns, live workers. Each section is a
/// `data-live` region the refresh script keeps current.
struct OverviewPage {
  var overview: DashboardOverview

  func render(flash: String?) -> String {
    DashboardLayout.page(
      title: "Overview", flash: flash,
      body: """
        <p class="updated">Numbers refresh every 5 s · <span id="updated" data-live>Redis time \
        \(html(dashboardTime(overview.now)))</span></p>
        <section id="queues" data-live>\(queues())</section>
        <section id="campaigns" data-live>\(campaigns())</section>
        <section id="workers" data-live>\(workers())</section>
        """)
  }

  func queues() -> String {
    guard !overview.queues.isEmpty else {
      return "<h2>Queues</h2><p class=\"empty\" id=\"queues-empty\">No queue has seen a job yet.</p>"
    }
    var rows = ""
    for queue in overview.queues {
      let s = queue.stats
      let q = idToken(s.queue)
      func cell(_ name: String, _ value: some CustomStringConvertible) -> String {
        "<td class=\"n\" id=\"queue-\(q)-\(name)\">\(html(value))</td>"
      }
      let chart = ThroughputChart(queue: s.queue, points: queue.throughput)
      let dead =
        s.dead > 0
        ? "<td class=\"n\" id=\"queue-\(q)-dead\"><a href=\"/dashboard/dead?queue=\(urlComponent(s.queue))\">\(s.dead)</a></td>"
        : cell("dead", s.dead)
      rows += """
        <tr id="queue-\(q)" data-queue="\(html(s.queue))"><td>\(html(s.queue))</td>\
        \(cell("ready", s.ready))\(cell("scheduled", s.scheduled))\(cell("active", s.active))\(dead)\
        \(cell("paused", s.paused ? "yes" : "no"))\(cell("processed", s.processed))\(cell("failed", s.failed))\
        \(cell("rate", "\(s.processedLastMinute) / \(s.failedLastMinute)"))\
        \(cell("oldest", s.oldestReadyAgeMs.map(dashboardAge) ?? "–"))\
        <td>\(chart.svg())</td></tr>

        """
    }
    return """
      <h2>Queues</h2>
      <table id="queues-table"><thead><tr><th>Queue</th><th>Ready</th><th>Scheduled</th><th>Active</th><th>Dead</th>\
      <th>Paused</th><th>Processed</th><th>Failed</th><th>Last min (ok / failed)</th><th>Oldest wait</th>\
      <th>Last hour (<span class="processed-key">processed</span>, <span class="failed-key">failed</span>)</th></tr></thead>
      <tbody>
      \(rows)</tbody></table>
      """
  }

  func campaigns() -> String {
    guard !overview.campaigns.isEmpty else {
      return "<h2>Running campaigns</h2><p class=\"empty\" id=\"campaigns-empty\">No campaign is running.</p>"
    }
    var rows = ""
    for c in overview.campaigns {
      let percent = Int((c.fraction * 100).rounded(.down))
      let status = c.pauseReason.map { "\(c.status) (\($0))" } ?? c.status.rawValue
      rows += """
        <tr id="campaign-\(c.id)"><td>\(html(c.tenant))</td><td>\(html(c.name))</td>\
        <td id="campaign-\(c.id)-status">\(html(status))</td>\
        <td><progress id="campaign-\(c.id)-progress" max="\(max(c.total, 1))" value="\(c.total == 0 ? 1 : c.finished)">\
        \(percent)%</progress> <span id="campaign-\(c.id)-done">\(c.finished) / \(c.total)</span> (\(percent)%)</td>\
        <td class="n">\(c.sent)</td><td class="n">\(c.delivered)</td><td class="n">\(c.failed)</td>\
        <td class="n">\(c.skipped)</td><td class="n">\(c.pending + c.sending)</td>\
        <td>\(c.startedAt.map { html(dashboardTime(Int64($0.timeIntervalSince1970 * 1000))) } ?? "–")</td></tr>

        """
    }
    return """
      <h2>Running campaigns</h2>
      <table id="campaigns-table"><thead><tr><th>Tenant</th><th>Campaign</th><th>Status</th><th>Progress</th>\
      <th>Sent</th><th>Delivered</th><th>Failed</th><th>Skipped</th><th>Left</th><th>Started</th></tr></thead>
      <tbody>
      \(rows)</tbody></table>
      """
  }

  func workers() -> String {
    guard !overview.workers.isEmpty else {
      return "<h2>Workers</h2><p class=\"empty\" id=\"workers-empty\">No worker is alive.</p>"
    }
    var rows = ""
    for w in overview.workers {
      let id = idToken(w.name)
      let jobs = w.jobs.map { "<code>\(html($0))</code>" }.joined(separator: " ")
      let more = w.running > w.jobs.count ? " …" : ""
      rows += """
        <tr id="worker-\(id)" data-worker="\(html(w.name))"><td>\(html(w.name))</td><td>\(html(w.host))</td>\
        <td class="n">\(w.pid)</td><td>\(html(w.queues.joined(separator: ", ")))</td>\
        <td class="n" id="worker-\(id)-running">\(w.running)</td><td class="n">\(w.concurrency)</td>\
        <td id="worker-\(id)-jobs">\(jobs)\(more)</td>\
        <td>\(html(dashboardAge(overview.now - w.lastSeenAt))) ago</td></tr>

        """
    }
    return """
      <h2>Workers</h2>
      <table id="workers-table"><thead><tr><th>Name</th><th>Host</th><th>PID</th><th>Queues</th><th>Running</th>\
      <th>Concurrency</th><th>Current jobs</th><th>Last seen</th></tr></thead>
      <tbody>
      \(rows)</tbody></table>
      """
  }
}
