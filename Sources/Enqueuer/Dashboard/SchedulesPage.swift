import Foundation
import JobCatalog
import JobQueue

/// `/dashboard/schedules`: every cron schedule of the catalog with where it stands in Redis, so an
/// operator can tell at a glance whether tonight's billing run fired, and what became of it.
enum SchedulesPage {
  struct Row {
    var schedule: JobCatalog.Schedule
    var state: CronState
    /// The last job it enqueued, if Redis still holds it (nil: none yet, or past retention).
    var lastJob: JobInfo?
  }

  static func render(_ rows: [Row], now: Int64, source: String, flash: String? = nil) -> String {
    guard !rows.isEmpty else {
      return DashboardLayout.page(
        title: "Schedules", body: "<p class=\"empty\" id=\"no-schedules\">No schedules in \(html(source)).</p>")
    }
    var body = """
      <table id="schedules"><thead><tr><th>Schedule</th><th>Cron</th><th>Time zone</th><th>Job</th>\
      <th>Last slot</th><th>Next slot</th><th>Missed slots</th><th>Fired</th><th>Last run</th><th>State</th></tr></thead><tbody>
      """
    for row in rows {
      let schedule = row.schedule
      let late = row.state.pausedBy == nil && (row.state.nextSlot.map { $0 < now - 60_000 } ?? false)
      let lastRun: String
      if let job = row.lastJob {
        lastRun =
          "<a href=\"\(html(JobPage.path(job.id)))\" class=\"state-\(html(job.state.rawValue))\">\(html(job.state.rawValue))</a>"
      } else if let id = row.state.lastJob, !id.isEmpty {
        lastRun = "<span title=\"\(html(id))\">gone (past retention)</span>"
      } else {
        lastRun = "–"
      }
      body += """
        <tr data-schedule="\(html(schedule.name))"\(late ? " class=\"late\"" : "")>\
        <td>\(html(schedule.name))</td><td><code>\(html(schedule.cron.description))</code></td>\
        <td>\(html(schedule.timeZone.identifier))</td><td>\(html(schedule.jobType)) on \(html(schedule.queue))</td>\
        <td class="last">\(html(row.state.lastSlot.map(dashboardTime) ?? "never"))</td>\
        <td class="next">\(html(row.state.nextSlot.map(dashboardTime) ?? "–"))\(late ? " (late)" : "")</td>\
        <td>\(html(schedule.missed == .skip ? "skip" : "run once"))</td>\
        <td class="n fired">\(row.state.fired)</td><td class="last-run">\(lastRun)</td>\
        <td class="state">\(toggle(schedule.name, row.state))</td></tr>
        """
    }
    body += "</tbody></table>"
    body += """
      <p class="hint">A schedule fires from any worker's scheduler, once per slot; a next slot more than a minute \
      past means no scheduler is running (start a worker) or Redis's clock moved. Missed slots follow the \
      schedule's policy. Source: \(html(source)).</p>
      """
    return DashboardLayout.page(title: "Schedules", flash: flash, body: body)
  }

  /// Running, or paused by whom with the slots that passed; and the button that flips it.
  static func toggle(_ name: String, _ state: CronState) -> String {
    let field = "\(DashboardForm.csrfField)<input type=\"hidden\" name=\"name\" value=\"\(html(name))\">"
    guard let by = state.pausedBy else {
      return """
        running <form method="post" action="/dashboard/schedules/pause" class="inline" \
        onsubmit="return confirm('Pause this schedule? Its slots pass with no job, and are not made up.')">\
        \(field)<button type="submit" class="pause">Pause</button></form>
        """
    }
    return """
      <strong class="paused">paused</strong> by \(html(by)), \(state.pausedSlots) slots passed \
      <form method="post" action="/dashboard/schedules/resume" class="inline">\(field)\
      <button type="submit" class="resume">Resume</button></form>
      """
  }
}
