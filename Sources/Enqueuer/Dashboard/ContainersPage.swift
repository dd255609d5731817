import Foundation
import Store

/// `/dashboard/containers`: the tenants' WAHA containers as the fleet monitor last saw them (a
/// sample a minute): totals, active alerts, each container with its actions, and the last 7 days
/// of sessions and CPU as inline SVG.
enum ContainersPage {
  struct Row {
    var container: WAHAContainer
    var sample: ContainerSample?
  }

  static func render(_ rows: [Row], alerts: [ContainerAlert], usage: [FleetUsage], docker: Bool, flash: String?)
    -> String
  {
    let samples = rows.compactMap(\.sample)
    let running = samples.filter { $0.state == "running" }.count
    let totals = """
      <dl class="totals" id="container-totals">\
      <dt>Containers</dt><dd id="total-containers">\(rows.count)</dd>\
      <dt>Running</dt><dd id="total-running">\(running)</dd>\
      <dt>Sessions</dt><dd id="total-sessions">\(rows.reduce(0) { $0 + $1.container.sessions })</dd>\
      <dt>CPU</dt><dd id="total-cpu">\(percent(samples.compactMap(\.cpuPercent).reduce(0, +)))</dd>\
      <dt>Memory</dt><dd id="total-memory">\(mebibytes(samples.compactMap(\.memoryBytes).reduce(0, +)))</dd></dl>
      """
    let alertRows = alerts.map { alert in
      """
      <tr data-alert="\(html(alert.kind.rawValue))"><td class="alert">\(html(alert.kind.rawValue))</td>\
      <td><code>\(html(alert.subject))</code></td><td>\(html(alert.detail))</td>\
      <td>\(html(dashboardTime(alert.raisedAt)))</td></tr>
      """
    }.joined()
    let alertTable =
      alerts.isEmpty
      ? "<p class=\"empty\" id=\"alerts-empty\">No active alert.</p>"
      : """
      <table id="container-alerts"><thead><tr><th>Alert</th><th>Container</th><th>Detail</th><th>Since</th></tr>\
      </thead><tbody>\(alertRows)</tbody></table>
      """
    let list =
      rows.isEmpty
      ? "<p class=\"empty\" id=\"containers-empty\">No container yet: the first chip a tenant creates without a WAHA address makes one.</p>"
      : """
      <table id="containers"><thead><tr><th>Container</th><th>Tenant</th><th>Port</th><th>State</th>\
      <th>Sessions</th><th>Uptime</th><th>CPU</th><th>Memory</th><th></th></tr></thead><tbody>
      \(rows.map { row(for: $0, docker: docker) }.joined(separator: "\n"))</tbody></table>
      """
    let body = """
      \(totals)
      <section><h2>Alerts</h2><div id="alerts" data-live>\(alertTable)</div></section>
      <section><h2>Containers</h2><div id="container-list" data-live>\(list)</div>\
      \(docker ? "" : "<p class=\"hint\">This server has no WHAGO_DOCKER_HOST: actions are off.</p>")</section>
      <section><h2>Last 7 days</h2>\(chart(usage))
      <p class="hint">An hour a bar: sessions in all containers (bars) and their CPU summed (line), from the \
      monitor's samples, kept 7 days.</p></section>
      """
    return DashboardLayout.page(title: "Containers", flash: flash, body: body)
  }

  static func row(for row: Row, docker: Bool) -> String {
    let c = row.container
    let s = row.sample
    let state = s?.state ?? (c.dockerId == nil ? "not created" : "not sampled")
    let actions =
      docker && c.dockerId != nil
      ? ["start", "stop", "restart"].map { action in
        """
        <form method="post" action="/dashboard/containers/\(action)" class="inline">\(DashboardForm.csrfField)\
        <input type="hidden" name="name" value="\(html(c.name))"><button type="submit" class="\(action)">\
        \(action.capitalized)</button></form>
        """
      }.joined() : ""
    return """
      <tr data-container="\(html(c.name))"><td><code>\(html(c.name))</code></td>\
      <td><a href="/dashboard/tenants/\(html(urlComponent(c.tenantName)))">\(html(c.tenantName))</a></td>\
      <td class="n">\(c.hostPort)</td><td class="state">\(html(state))</td>\
      <td class="n sessions">\(c.sessions)</td><td class="n">\(s?.uptimeS.map(duration) ?? "–")</td>\
      <td class="n">\(s?.cpuPercent.map(percent) ?? "–")</td><td class="n">\(s?.memoryPercent.map(percent) ?? "–")</td>\
      <td>\(actions)</td></tr>
      """
  }

  static func chart(_ usage: [FleetUsage], width: Int = 720, height: Int = 120) -> String {
    guard !usage.isEmpty, let first = usage.first?.at else {
      return "<p class=\"empty\" id=\"usage-empty\">No sample yet.</p>"
    }
    let span = max(1, Date().timeIntervalSince(first))
    let peakSessions = Double(max(1, usage.map(\.sessions).max() ?? 1))
    let peakCPU = max(1, usage.map(\.cpuPercent).max() ?? 1)
    func x(_ date: Date) -> Double { (date.timeIntervalSince(first) / span) * Double(width - 4) + 2 }
    let bar = max(1.0, Double(width) / Double(max(usage.count, 1)) - 1)
    var out = """
      <svg class="chart" id="usage-chart" data-points="\(usage.count)" width="\(width)" height="\(height)" \
      viewBox="0 0 \(width) \(height)" role="img" aria-label="sessions and CPU over the last 7 days" \
      xmlns="http://www.w3.org/2000/svg"><line class="axis" x1="0" y1="\(height - 1)" x2="\(width)" y2="\(height - 1)"/>
      """
    for point in usage {
      let h = Double(point.sessions) / peakSessions * Double(height - 4)
      out += String(
        format:
          "<rect class=\"processed\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>%@</title></rect>",
        x(point.at), Double(height - 1) - h, bar, h,
        html("\(dashboardTime(point.at)): \(point.sessions) sessions, \(percent(point.cpuPercent)) CPU"))
    }
    let line = usage.map {
      String(format: "%.1f,%.1f", x($0.at), Double(height - 1) - $0.cpuPercent / peakCPU * Double(height - 4))
    }.joined(separator: " ")
    return out + "<polyline class=\"failed\" fill=\"none\" points=\"\(line)\"/></svg>"
  }

  static func percent(_ value: Double) -> String { String(format: "%.1f%%", value) }
  static func mebibytes(_ bytes: Int64) -> String { "\(bytes >> 20) MiB" }
  static func duration(_ seconds: Int64) -> String {
    seconds >= 86400 ? "\(seconds / 86400)d" : seconds >= 3600 ? "\(seconds / 3600)h" : "\(seconds / 60)m"
  }
}
