import Foundation
import Store
import Wire

/// What happened and whom it was told: the newest events (filtered by tenant and type) and every
/// webhook endpoint with its health, failing and disabled ones first. A delivery that used up its
/// attempts is a dead `webhook.deliver` job, linked from here to the dead-letter list.
enum EventsPage {
  struct Filter {
    var tenant: String?
    var type: EventType?

    init(_ fields: FormFields) {
      tenant = fields["tenant"]
      type = fields["type"].flatMap(EventType.init(rawValue:))
    }
  }

  static let limit = 200

  static func render(filter: Filter, events: [Event], endpoints: [WebhookEndpoint], deadDeliveries: Int) -> String {
    var options = "<option value=\"\">every type</option>"
    for type in EventType.allCases {
      let selected = type == filter.type ? " selected" : ""
      options += "<option value=\"\(html(type.rawValue))\"\(selected)>\(html(type.rawValue))</option>"
    }
    let form = """
      <form method="get" action="/dashboard/events" class="filters" id="events-filter">
      <label>Tenant <input name="tenant" id="events-tenant" value="\(html(filter.tenant ?? ""))"></label>
      <label>Type <select name="type" id="events-type">\(options)</select></label>
      <button type="submit" id="events-apply">Filter</button> <a href="/dashboard/events">clear</a>
      </form>
      """
    return DashboardLayout.page(
      title: "Events",
      body: """
        <section id="events" data-live>\(form)\(table(events))</section>
        <section id="endpoints" data-live>\(endpointTable(endpoints, deadDeliveries: deadDeliveries))</section>
        """)
  }

  static func table(_ events: [Event]) -> String {
    guard !events.isEmpty else { return "<p class=\"empty\" id=\"events-empty\">No event matches.</p>" }
    var rows = ""
    for event in events {
      let subject = event.subject.map { "\($0.type.rawValue) \($0.id)" } ?? "–"
      rows += """
        <tr data-event-id="\(event.id)"><td class="n">\(event.id)</td>\
        <td>\(html(dashboardTime(Int64(event.occurredAt.timeIntervalSince1970 * 1000))))</td>\
        <td>\(html(event.tenant))</td><td>\(html(event.type.rawValue))</td><td>\(html(subject))</td>\
        <td><code>\(html(event.data.text().prefix(300)))</code></td></tr>

        """
    }
    let more = events.count >= limit ? "<p>Showing the newest \(limit); narrow the filter to see others.</p>" : ""
    return """
      <h2>Events, newest first</h2>
      <table id="events-table"><thead><tr><th>Id</th><th>At</th><th>Tenant</th><th>Type</th><th>Subject</th>\
      <th>Data</th></tr></thead><tbody>
      \(rows)</tbody></table>\(more)
      """
  }

  static func endpointTable(_ endpoints: [WebhookEndpoint], deadDeliveries: Int) -> String {
    let dead =
      deadDeliveries > 0
      ? """
      <p id="dead-deliveries"><a href="/dashboard/dead?type=webhook.deliver">\(deadDeliveries) deliveries \
      used up their attempts</a>: retry them from the dead-letter list once the receiver is fixed.</p>
      """
      : "<p id=\"dead-deliveries\" class=\"empty\">No delivery used up its attempts.</p>"
    guard !endpoints.isEmpty else {
      return "<h2>Webhook endpoints</h2><p class=\"empty\" id=\"endpoints-empty\">No endpoint is registered.</p>\(dead)"
    }
    var rows = ""
    for endpoint in endpoints {
      let health: String
      if let disabled = endpoint.disabledAt {
        health = "disabled since \(dashboardTime(Int64(disabled.timeIntervalSince1970 * 1000)))"
      } else if let failing = endpoint.failingSince {
        health = "failing since \(dashboardTime(Int64(failing.timeIntervalSince1970 * 1000)))"
      } else {
        health = "ok"
      }
      let events = endpoint.events.isEmpty ? "every type" : endpoint.events.map(\.rawValue).joined(separator: ", ")
      rows += """
        <tr data-endpoint-id="\(endpoint.id)"><td class="n">\(endpoint.id)</td>\
        <td>\(html(endpoint.tenant ?? "the service (every tenant)"))</td><td>\(html(endpoint.url))</td>\
        <td>\(html(events))</td><td class="health">\(html(health))</td></tr>

        """
    }
    return """
      <h2>Webhook endpoints</h2>
      <table id="endpoints-table"><thead><tr><th>Id</th><th>Tenant</th><th>URL</th><th>Events</th><th>Health</th>\
      </tr></thead><tbody>
      \(rows)</tbody></table>\(dead)
      """
  }
}
