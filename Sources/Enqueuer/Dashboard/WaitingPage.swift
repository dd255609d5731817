import Foundation
import JobQueue

/// `/dashboard/scheduled` and `/dashboard/retries`: the jobs of the scheduled set that never ran,
/// and those waiting for their next attempt, with a filter, per-row run-now and cancel, and the
/// same two actions on everything the filter matches.
enum WaitingPage {
  /// Listed at most; the bulk actions reach past it.
  static let limit = 100

  static func render(
    _ set: JobSetAction.JobSet, filter: DeadLetterPages.Filter, queues: [QueueStats], jobs: [WaitingJob], now: Int64,
    back: String, flash: String?
  ) -> String {
    let title = set == .retries ? "Retries" : "Scheduled"
    var options = "<option value=\"\">every queue with waiting jobs</option>"
    for s in queues {
      let selected = s.queue == filter.queue ? " selected" : ""
      options += "<option value=\"\(html(s.queue))\"\(selected)>\(html(s.queue)) (\(s.scheduled) waiting)</option>"
    }
    let errorField =
      set == .retries
      ? "<label>Error contains <input name=\"error\" id=\"filter-error\" value=\"\(html(filter.error ?? ""))\"></label>"
      : ""
    let form = """
      <form method="get" action="\(set.path)" class="filters" id="waiting-filter">
      <label>Queue <select name="queue" id="filter-queue">\(options)</select></label>
      <label>Type <input name="type" id="filter-type" value="\(html(filter.type ?? ""))"></label>
      <label>Tenant <input name="tenant" id="filter-tenant" value="\(html(filter.tenant ?? ""))"></label>
      \(errorField)<button type="submit" id="filter-apply">Filter</button> <a href="\(set.path)">clear</a>
      </form>
      """
    guard !jobs.isEmpty else {
      return DashboardLayout.page(
        title: title, flash: flash,
        body: form + "<p class=\"empty\" id=\"waiting-empty\">No \(set.title) match.</p>")
    }
    var rows = ""
    for job in jobs {
      let fields =
        "\(DashboardForm.csrfField)<input type=\"hidden\" name=\"set\" value=\"\(set.rawValue)\">"
        + "<input type=\"hidden\" name=\"queue\" value=\"\(html(job.queue))\">"
        + "<input type=\"hidden\" name=\"id\" value=\"\(html(job.id))\">"
        + "<input type=\"hidden\" name=\"back\" value=\"\(html(back))\">"
      let due = job.dueAt - now
      rows += """
        <tr data-waiting-id="\(html(job.id))" data-queue="\(html(job.queue))">\
        <td><a href="\(html(JobPage.path(job.id)))">\(html(job.id))</a></td><td>\(html(job.queue))</td>\
        <td>\(html(job.type))</td><td>\(html(job.tenant ?? "–"))</td>\
        <td>\(html(dashboardTime(job.dueAt)))<br><small>\(due >= 0 ? "in " + BusyPage.seconds(due) : "due now")</small></td>\
        <td class="n">\(job.attempts) of \(job.maxAttempts)</td><td>\(html((job.lastError ?? "–").prefix(300)))</td>\
        <td><form method="post" action="/dashboard/waiting/run" class="inline">\(fields)\
        <button type="submit" class="run-now">Run now</button></form> \
        <form method="post" action="/dashboard/waiting/cancel" class="inline" \
        onsubmit="return confirm('Cancel this job? It will not run.')">\(fields)\
        <button type="submit" class="cancel">Cancel</button></form></td></tr>

        """
    }
    let more =
      jobs.count >= limit
      ? "<p class=\"hint\">Showing the \(limit) due soonest; the actions below reach every match.</p>" : ""
    let run = JobSetAction(set: set, verb: .run, queue: filter.queue, filter: filter.broker)
    let cancel = JobSetAction(set: set, verb: .remove, queue: filter.queue, filter: filter.broker)
    let body = """
      \(form)
      <table id="waiting-table"><thead><tr><th>Id</th><th>Queue</th><th>Type</th><th>Tenant</th><th>Due</th>\
      <th>Attempts</th><th>Last error</th><th></th></tr></thead><tbody>
      \(rows)</tbody></table>\(more)
      <p class="bulk">Every job this filter matches: <a href="/dashboard/bulk?\(html(run.query))" id="bulk-run">run all now…</a> · \
      <a href="/dashboard/bulk?\(html(cancel.query))" id="bulk-cancel">cancel all…</a> (the next page counts them and asks first)</p>
      """
    return DashboardLayout.page(title: title, flash: flash, body: body)
  }
}
