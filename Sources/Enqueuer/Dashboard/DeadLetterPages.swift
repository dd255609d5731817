import Foundation
import JobQueue

/// The dead-letter list with its filter, and one dead job in full. Retry and delete are small
/// forms that POST and come back here with a flash message.
enum DeadLetterPages {
  struct Filter {
    var queue: String?
    var type: String?
    var tenant: String?
    var error: String?

    init(_ fields: FormFields) {
      queue = fields["queue"]
      type = fields["type"]
      tenant = fields["tenant"]
      error = fields["error"]
    }

    var broker: JobFilter { JobFilter(type: type, tenant: tenant, errorContains: error) }
  }

  /// `back`: this page's own address, where the forms return to.
  static func list(
    filter: Filter, queues: [QueueStats], letters: [DeadLetter], unreadable: [(queue: String, error: String)],
    limit: Int, back: String, flash: String?
  ) -> String {
    var options = "<option value=\"\">every queue with dead letters</option>"
    for s in queues {
      let selected = s.queue == filter.queue ? " selected" : ""
      options += "<option value=\"\(html(s.queue))\"\(selected)>\(html(s.queue)) (\(s.dead) dead)</option>"
    }
    let form = """
      <form method="get" action="/dashboard/dead" class="filters" id="dead-filter">
      <label>Queue <select name="queue" id="filter-queue">\(options)</select></label>
      <label>Type <input name="type" id="filter-type" value="\(html(filter.type ?? ""))"></label>
      <label>Tenant <input name="tenant" id="filter-tenant" value="\(html(filter.tenant ?? ""))"></label>
      <label>Error contains <input name="error" id="filter-error" value="\(html(filter.error ?? ""))"></label>
      <button type="submit" id="filter-apply">Filter</button> <a href="/dashboard/dead">clear</a>
      </form>
      """
    var table = "<p class=\"empty\" id=\"dead-empty\">No dead letters match.</p>"
    if !letters.isEmpty {
      var rows = ""
      for letter in letters {
        let show = "/dashboard/dead/\(urlComponent(letter.queue))/\(urlComponent(letter.id))"
        rows += """
          <tr data-dead-id="\(html(letter.id))" data-queue="\(html(letter.queue))">\
          <td><a href="\(html(show))" class="show">\(html(letter.id))</a></td><td>\(html(letter.queue))</td>\
          <td>\(html(letter.type))</td><td>\(html(letter.tenant ?? "–"))</td>\
          <td>\(html(dashboardTime(letter.diedAt)))</td><td class="n">\(letter.attempts)</td>\
          <td>\(html((letter.lastError ?? "").prefix(300)))</td>\
          <td>\(actions(queue: letter.queue, ids: [letter.id], back: back, label: ""))</td></tr>

          """
      }
      let more = letters.count >= limit ? "<p>Showing the newest \(limit); narrow the filter to see others.</p>" : ""
      table = """
        <table id="dead-table"><thead><tr><th>Id</th><th>Queue</th><th>Type</th><th>Tenant</th><th>Died at</th>\
        <th>Attempts</th><th>Last error</th><th></th></tr></thead>
        <tbody>
        \(rows)</tbody></table>\(more)
        """
      // Bulk actions only within one queue: the retry and delete scripts work a queue at a time.
      if let queue = filter.queue, letters.count > 1 {
        table +=
          "<div class=\"bulk\">All \(letters.count) shown: \(actions(queue: queue, ids: letters.map(\.id), back: back, label: " all"))</div>"
      }
      let retry = JobSetAction(set: .dead, verb: .run, queue: filter.queue, filter: filter.broker)
      let delete = JobSetAction(set: .dead, verb: .remove, queue: filter.queue, filter: filter.broker)
      table += """
        <p class="bulk">Every dead letter this filter matches, past the ones shown: \
        <a href="/dashboard/bulk?\(html(retry.query))" id="bulk-retry">retry all…</a> · \
        <a href="/dashboard/bulk?\(html(delete.query))" id="bulk-delete">delete all…</a> \
        (the next page counts them and asks first)</p>
        """
    }
    let errors = unreadable.map {
      "<p class=\"error\" data-unreadable-queue=\"\(html($0.queue))\">The dead letters of \(html($0.queue)) "
        + "could not be read: \(html($0.error.prefix(300)))</p>"
    }.joined()
    return DashboardLayout.page(
      title: "Dead letters", flash: flash, body: "<section id=\"dead\">\(form)\(errors)\(table)</section>")
  }

  static func show(_ job: JobInfo, diedAt: Int64?, flash: String?) -> String {
    let back = "/dashboard/dead/\(urlComponent(job.queue))/\(urlComponent(job.id))"
    var attempts = "<p class=\"empty\">No failed or crashed attempt is recorded.</p>"
    if !job.history.isEmpty {
      attempts =
        "<table id=\"job-attempts\"><thead><tr><th>Attempt</th><th>Kind</th><th>At</th><th>Error</th></tr></thead><tbody>"
      for record in job.history {
        attempts += """
          <tr data-attempt="\(record.attempt)"><td class="n">\(record.attempt)</td><td>\(html(record.kind))</td>\
          <td>\(html(dashboardTime(record.at)))</td><td><pre class="attempt-error">\(html(record.error))</pre></td></tr>
          """
      }
      attempts += "</tbody></table>"
    }
    let controls =
      job.state == .dead
      ? actions(queue: job.queue, ids: [job.id], back: back, label: "", deleteBack: deadList(queue: job.queue))
      : "<p>This job is \(html(job.state.rawValue)); only dead jobs are retried or deleted here.</p>"
    func row(_ name: String, _ value: String, id: String? = nil) -> String {
      "<tr><th>\(name)</th><td\(id.map { " id=\"\($0)\"" } ?? "")>\(html(value))</td></tr>"
    }
    let time = { (ms: Int64?) in ms.map(dashboardTime) ?? "–" }
    let body = """
      <section id="job" data-dead-id="\(html(job.id))">
      <h2>Job <code id="job-id">\(html(job.id))</code></h2>
      <table id="job-fields">
      \(row("Queue", job.queue, id: "job-queue"))\(row("Type", job.type, id: "job-type"))\
      \(row("Tenant", job.tenant ?? "–", id: "job-tenant"))\(row("State", job.state.rawValue, id: "job-state"))\
      \(row("Attempts", "\(job.attempts) of \(job.maxAttempts)", id: "job-attempt-count"))\
      \(row("Crashes", String(job.crashes)))\(row("Enqueued", time(job.enqueuedAt)))\
      \(row("Died", time(diedAt), id: "job-died"))
      </table>
      \(controls)
      <h2>Payload</h2>
      <pre id="job-payload">\(html(PayloadMask.pretty(job.payload)))</pre>
      <h2>Attempts</h2>
      \(attempts)
      <p><a href="\(html(deadList(queue: job.queue)))">Back to the dead letters of \(html(job.queue))</a></p>
      </section>
      """
    return DashboardLayout.page(title: "Job \(job.id)", flash: flash, body: body)
  }

  static func missing(
    queue: String, id: String, reason: String = "it was deleted, or it is past its retention"
  ) -> String {
    DashboardLayout.page(
      title: "No such job",
      body: """
        <p class="error" id="job-missing">No job <code>\(html(id))</code> in queue \(html(queue)): \
        \(html(reason.prefix(300))).</p>
        <p><a href="\(html(deadList(queue: queue)))">Dead letters of \(html(queue))</a></p>
        """)
  }

  static func deadList(queue: String) -> String { "/dashboard/dead?queue=\(urlComponent(queue))" }

  /// The Retry and Delete forms for `ids` of `queue`.
  static func actions(queue: String, ids: [String], back: String, label: String, deleteBack: String? = nil) -> String {
    let hidden = ids.map { "<input type=\"hidden\" name=\"id\" value=\"\(html($0))\">" }.joined()
    let common = "<input type=\"hidden\" name=\"queue\" value=\"\(html(queue))\">\(hidden)\(DashboardForm.csrfField)"
    let single = ids.count == 1 ? "-\(idToken(ids[0]))" : "-all"
    let confirm = ids.count == 1 ? "Delete this dead job for good?" : "Delete these \(ids.count) dead jobs for good?"
    return """
      <form method="post" action="/dashboard/dead/retry" class="inline retry">\(common)\
      <input type="hidden" name="back" value="\(html(back))">\
      <button type="submit" class="retry" id="retry\(single)">Retry\(label)</button></form> \
      <form method="post" action="/dashboard/dead/delete" class="inline delete" \
      onsubmit="return confirm('\(confirm)')">\(common)\
      <input type="hidden" name="back" value="\(html(deleteBack ?? back))">\
      <button type="submit" class="delete" id="delete\(single)">Delete\(label)</button></form>
      """
  }
}
