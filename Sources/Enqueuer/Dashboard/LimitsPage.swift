import Foundation
import JobQueue

/// `/dashboard/limits`: every token bucket in use, live: its level against its capacity, its
/// refill, and whose it is (a tenant's sends or API calls, a chip's gap between sends), with the
/// tenant's plan beside it, and per queue the jobs waiting that were deferred for a token.
enum LimitsPage {
  /// Buckets listed at most; a filter narrows the rest.
  static let limit = 500

  struct Row {
    var bucket: BucketLevel
    /// The tenant the bucket belongs to and that tenant's plan, when its name names one.
    var tenant: String?
    var plan: String?
  }

  static func render(_ rows: [Row], queues: [QueueStats], filter: String?) -> String {
    let form = """
      <form method="get" action="/dashboard/limits" class="filters" id="limits-filter">
      <label>Tenant, chip or bucket piece <input name="name" id="filter-name" value="\(html(filter ?? ""))"></label>
      <button type="submit">Filter</button> <a href="/dashboard/limits">clear</a></form>
      """
    var table =
      "<p class=\"empty\" id=\"limits-empty\">No bucket is in use\(filter == nil ? "" : " for that name"): "
      + "a bucket exists while it is below capacity.</p>"
    if !rows.isEmpty {
      let body = rows.map { row in
        let b = row.bucket
        let capacity = b.capacity ?? 0
        let fill = capacity > 0 ? max(0, min(1, b.level / capacity)) : 0
        let promised = b.level < 0 ? " <small>(\(number(-b.level)) promised ahead)</small>" : ""
        return """
          <tr data-bucket="\(html(b.name))"><td><code>\(html(b.name))</code></td><td>\(html(kind(b.name)))</td>\
          <td>\(row.tenant.map { "<a href=\"/dashboard/tenants/\(html(urlComponent($0)))\">\(html($0))</a>" } ?? "–")</td>\
          <td>\(html(row.plan ?? "–"))</td><td class="n level">\(number(b.level))\(promised)</td>\
          <td class="n">\(b.capacity.map(number) ?? "?")</td><td class="n">\(b.refillPerSecond.map(rate) ?? "?")</td>\
          <td><progress max="1" value="\(String(format: "%.3f", fill))"></progress></td></tr>
          """
      }.joined(separator: "\n")
      table = """
        <table id="limits"><thead><tr><th>Bucket</th><th>Limits</th><th>Tenant</th><th>Plan</th><th>Tokens now</th>\
        <th>Capacity</th><th>Refill</th><th>Level</th></tr></thead><tbody>
        \(body)</tbody></table>\(rows.count >= limit ? "<p class=\"hint\">The first \(limit) by name; filter to see others.</p>" : "")
        """
    }
    let deferred = queues.filter { $0.deferred > 0 }.map {
      "<tr data-queue=\"\(html($0.queue))\"><td>\(html($0.queue))</td><td class=\"n\">\($0.deferred)</td>"
        + "<td class=\"n\">\($0.scheduled)</td><td><a href=\"/dashboard/scheduled?queue=\(html(urlComponent($0.queue)))\">waiting jobs</a></td></tr>"
    }.joined()
    let deferrals =
      deferred.isEmpty
      ? "<p class=\"empty\">No job has waited for a token.</p>"
      : """
      <table id="deferrals"><thead><tr><th>Queue</th><th>Deferred for a token (all time)</th>\
      <th>Waiting now</th><th></th></tr></thead><tbody>\(deferred)</tbody></table>
      """
    let page = """
      \(form)<section id="buckets" data-live>\(table)</section>
      <section><h2>Jobs deferred for tokens</h2><div id="deferred" data-live>\(deferrals)</div>
      <p class="hint">A job that finds no token is not failed: it waits in the scheduled set for the moment its \
      token exists, holding its reservation. Negative tokens are tokens promised to such jobs.</p></section>
      """
    return DashboardLayout.page(title: "Limits", body: page)
  }

  /// What a bucket limits, from the first piece of its name (the catalog's and the API's names).
  static func kind(_ name: String) -> String {
    switch name.split(separator: ":").first.map(String.init) ?? "" {
    case "chip": "a chip's gap between sends"
    case "sends": "a tenant's sends per minute"
    case "api": "a tenant's API requests per hour"
    case "maturation": "a chip's warm-up messages"
    default: "catalog limit"
    }
  }

  /// The tenant a bucket name names: the piece after `sends:`, `api:` and the like.
  static func tenant(of name: String) -> String? {
    let pieces = name.split(separator: ":").map(String.init)
    guard pieces.count == 2, ["sends", "api"].contains(pieces[0]) else { return nil }
    return pieces[1]
  }

  static func number(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
  }

  static func rate(_ perSecond: Double) -> String {
    perSecond >= 1 ? "\(number(perSecond))/s" : "\(number(perSecond * 60))/min"
  }
}
