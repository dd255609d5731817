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

  static func render(_ rows: [Row], now: Int64, source: String) -> String {
    guard !rows.isEmpty else {
      return DashboardLayout.page(
        title: "Schedules", body: "<p class=\"empty\" id=\"no-schedules\">No schedules in \(html(source)).</p>")
    }
    var body = """
      <table id="schedules"><thead><tr><th>Schedule</th><th>Cron</th><th>Time zone</th><th>Job</th>\
      <th>Last slot</th><th>Next slot</th><th>Missed slots</th><th>Fired</th><th>Last run</th></tr></thead><tbody>
      """
    for row in rows {
      let schedule = row.schedule
      let late = row.state.nextSlot.map { $0 < now - 60_000 } ?? false
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
        <td class="n fired">\(row.state.fired)</td><td class="last-run">\(lastRun)</td></tr>
        """
    }
    body += "</tbody></table>"
    body += """
      <p class="hint">A schedule fires from any worker's scheduler, once per slot; a next slot more than a minute \
      past means no scheduler is running (start a worker) or Redis's clock moved. Missed slots follow the \
      schedule's policy. Source: \(html(source)).</p>
      """
    return DashboardLayout.page(title: "Schedules", body: body)
  }
}
